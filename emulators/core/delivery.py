"""A durable delivery engine: messages re-sent until acknowledged, dead-lettered, never sent beyond the policy.

Protocol-neutral (any HTTP callback: Netrika's MIS callbacks, ФХ СЭМД's REST results). The API is stable:

    engine = DeliveryEngine(db, outbound, name="netrika", policy=Policy(max_resends=5, interval_s=30))
    engine.acknowledge_with("CDAStatus", validate_ack)    # how a 2xx answer is judged, per operation
    emulator.add(engine.component())                        # the worker (or: await engine.run())
    delivery_id = engine.enqueue(destination, operation, url, body, headers, message_id)
    engine.enqueue_many([Outgoing(destination, operation, url, body, headers, message_id), ...])  # one commit
    engine.message(delivery_id)  # state pending|sending|delivered|dead, attempts, next attempt, last error
    engine.messages(destination=..., state=...); engine.counts(); engine.resend(delivery_id)
    engine.policy; engine.set_policy(Policy(...))

Guarantees. A message is committed to the outbox before `enqueue` returns. Before each POST the attempt is
committed (attempt number, state `sending`): a SIGKILL mid-send therefore counts that POST, and after a restart
the message goes on with the attempts it has left, so no message is lost and none gets more than
`max_resends + 1` POSTs per round. Each destination (an MIS site) has its own concurrency limit, so a slow or
dead site holds up only its own messages. Every attempt is journaled (`attributes`: delivery_id, message_id,
attempt, destination) with its outcome. Not delivered: a transport failure, a timeout, a non-2xx answer, or a
2xx answer the operation's `validate_ack` refuses. Order between messages of one destination is not kept.

Validators are code, not data: register them at build time (`acknowledge_with`), so that they exist again
after a restart. `enqueue(..., validate_ack=f)` registers `f` for the operation as a shortcut.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulators.core.components import BackgroundTask
from emulators.core.outbound import Outbound, Reply
from emulators.core.storage import Database

PENDING, SENDING, DELIVERED, DEAD = "pending", "sending", "delivered", "dead"
STATES = (PENDING, SENDING, DELIVERED, DEAD)
SCHEMA = [
    # no AUTOINCREMENT and no index on state: both cost a write per change on the hot path (the one scan by
    # state is at start-up); ids are rowids, unique among the rows present
    "CREATE TABLE IF NOT EXISTS delivery_message (id INTEGER PRIMARY KEY, engine TEXT NOT NULL,"
    " destination TEXT NOT NULL, operation TEXT NOT NULL, url TEXT NOT NULL, body BLOB NOT NULL,"
    " headers TEXT NOT NULL, message_id TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " round_start INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL, created_at REAL NOT NULL, settled_at REAL,"
    " last_error TEXT NOT NULL DEFAULT '', ack TEXT)",
    "CREATE TABLE IF NOT EXISTS delivery_attempt (message INTEGER NOT NULL, attempt INTEGER NOT NULL,"
    " started_at REAL NOT NULL, outcome TEXT NOT NULL, status INTEGER, latency_ms REAL,"
    " error TEXT NOT NULL DEFAULT '', PRIMARY KEY (message, attempt))",
]


class PolicyError(ValueError):
    """A policy the engine refuses (the text says which field and why)."""


@dataclass(frozen=True)
class Policy:
    """How often and how patiently a message is sent: at most `max_resends + 1` POSTs per round."""

    max_resends: int = 5
    interval_s: float = 30.0  # before the first re-send
    backoff: float = 2.0  # each later re-send waits `backoff` times longer than the one before
    timeout_s: float = 10.0  # for the whole answer to one POST

    def __post_init__(self) -> None:
        checks = (
            (isinstance(self.max_resends, int) and not isinstance(self.max_resends, bool)
             and 0 <= self.max_resends <= 100, "max_resends must be a whole number from 0 to 100"),
            (_number(self.interval_s) and 0 <= self.interval_s <= 86_400, "interval_s must be 0..86400 seconds"),
            (_number(self.backoff) and 1 <= self.backoff <= 10, "backoff must be a factor from 1 to 10"),
            (_number(self.timeout_s) and 0 < self.timeout_s <= 600, "timeout_s must be more than 0 and at most 600"),
        )  # fmt: skip
        for ok, reason in checks:
            if not ok:
                raise PolicyError(reason)

    @classmethod
    def from_dict(cls, raw: Any, base: Policy | None = None) -> Policy:
        """A policy from JSON; fields left out keep `base`'s values."""
        if not isinstance(raw, dict):
            raise PolicyError('expected an object such as {"max_resends": 5, "interval_s": 30}')
        unknown = sorted(set(raw) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            known = "max_resends, interval_s, backoff, timeout_s"
            raise PolicyError(f"unknown field(s) {', '.join(unknown)}; known: {known}")
        return dataclasses.replace(base or cls(), **raw)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def delay_before(self, attempt_in_round: int) -> float:
        """Seconds to wait before attempt n of a round (n ≥ 2)."""
        return float(self.interval_s * self.backoff ** max(0, attempt_in_round - 2))


@dataclass(frozen=True)
class Verdict:
    """How one answer is judged: delivered or not, the journal outcome and why."""

    delivered: bool
    outcome: str = "ok"  # journal outcome: ok | timeout | refused | http_500 | invalid_json | wrong_message_id …
    error: str = ""
    violations: tuple[dict[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    ack: Any = None  # the acknowledgement as understood (stored with the message)


ValidateAck = Callable[[Reply, str], Verdict]  # (a 2xx reply, the message_id sent) -> Verdict


def accept_any_2xx(reply: Reply, message_id: str) -> Verdict:
    """The default: any 2xx answer acknowledges."""
    return Verdict(True)


@dataclass(frozen=True)
class Outgoing:
    """One message to enqueue (`enqueue_many`); `not_before` is the epoch second of its first attempt."""

    destination: str
    operation: str
    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    message_id: str = ""
    not_before: float | None = None


@dataclass
class _Item:
    id: int
    destination: str
    operation: str
    url: str
    body: bytes
    headers: dict[str, str]
    message_id: str
    attempts: int
    round_start: int
    next_at: float
    started_at: float = 0.0


@dataclass
class _Lane:
    """One destination: attempts committed and waiting for a worker, its workers, and the idle ones' wake-ups.

    Workers are long-lived coroutines (at most `per_destination` per lane) rather than a task per attempt:
    creating a task per POST cost a third of the delivery rate to a fast MIS here.
    """

    handoff: deque[_Item] = field(default_factory=deque)
    workers: int = 0
    idle: deque[asyncio.Future[bool]] = field(default_factory=deque)


@dataclass
class _Done:
    item: _Item
    attempt: int
    reply: Reply
    verdict: Verdict


@dataclass
class Stats:
    """Counters of this process (the durable truth is in the tables)."""

    sent: int = 0
    delivered: int = 0
    dead: int = 0
    recovered_in_flight: int = 0
    settle_latency_ms: list[float] = field(default_factory=list)  # enqueue → settled, bounded


class DeliveryEngine:
    """The outbox and its worker for one emulator (`name` keeps its rows apart in a shared database)."""

    def __init__(
        self,
        db: Database,
        outbound: Outbound,
        name: str,
        policy: Policy | None = None,
        per_destination: int = 8,
        max_in_flight: int = 512,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.outbound = outbound
        self.name = name
        self.configured_policy = policy or Policy()
        self.policy = self._stored_policy() or self.configured_policy
        self.per_destination = max(1, per_destination)
        self.max_in_flight = max(1, max_in_flight)
        self.clock = clock
        self.stats = Stats()
        self.on_settled: Callable[[int, str], None] | None = None  # (delivery_id, delivered|dead)
        self._validators: dict[str, ValidateAck] = {}
        self._items: dict[int, _Item] = {}
        self._heap: list[tuple[float, int]] = []
        self._ready: dict[str, deque[int]] = defaultdict(deque)
        self._in_flight: dict[str, int] = defaultdict(int)
        self._tasks: set[asyncio.Task[None]] = set()
        self._lanes: dict[str, _Lane] = {}
        self._stopping = False
        self.idle_worker_s = 5.0  # an idle lane worker ends after this long
        self.linger_s = 0.001  # see _linger
        self._done: list[_Done] = []
        self._enqueued_at: dict[int, float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        db.ensure_schema(SCHEMA)
        self._recover()

    # -- the public API -----------------------------------------------------------------------------

    def acknowledge_with(self, operation: str, validate_ack: ValidateAck) -> None:
        """Judge 2xx answers to `operation` with `validate_ack` (default: any 2xx acknowledges)."""
        self._validators[operation] = validate_ack

    def enqueue(
        self,
        destination: str,
        operation: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        message_id: str = "",
        validate_ack: ValidateAck | None = None,
        not_before: float | None = None,
    ) -> int:
        """Store one message (committed when this returns) and schedule it; returns its delivery id.

        `not_before`: epoch seconds of the first attempt (default now).
        """
        if validate_ack is not None:
            self.acknowledge_with(operation, validate_ack)
        return self.enqueue_many([Outgoing(destination, operation, url, body, dict(headers or {}), message_id,
                                           not_before)])[0]  # fmt: skip

    def enqueue_many(self, messages: Sequence[Outgoing]) -> list[int]:
        """Store several messages in one transaction (committed when this returns); their delivery ids, in order."""
        now = self.clock()
        ids: list[int] = []
        with self.db.transaction() as conn:
            for message in messages:
                first = max(now, message.not_before or now)
                cursor = conn.execute(
                    "INSERT INTO delivery_message (engine, destination, operation, url, body, headers, message_id,"
                    " state, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (self.name, message.destination, message.operation, message.url, message.body,
                     orjson.dumps(message.headers).decode(), message.message_id, PENDING, first, now),
                )  # fmt: skip
                ids.append(int(cursor.lastrowid or 0))
        began = time.perf_counter()
        for delivery_id, message in zip(ids, messages):
            first = max(now, message.not_before or now)
            self._schedule(_Item(delivery_id, message.destination, message.operation, message.url, message.body,
                                 dict(message.headers), message.message_id, 0, 0, first))  # fmt: skip
            self._enqueued_at[delivery_id] = began
        return ids

    def set_policy(self, policy: Policy) -> None:
        """Use `policy` from now on (also for messages already waiting); kept across restarts."""
        self.policy = policy
        self.db.set_meta(self._policy_key, orjson.dumps(policy.as_dict()).decode())

    def reset_policy(self) -> None:
        """Back to the configured policy."""
        self.policy = self.configured_policy
        self.db.execute("DELETE FROM meta WHERE key = ?", (self._policy_key,))

    def resend(self, delivery_id: int) -> bool:
        """Give a dead message a new round under the current policy; False if it is not dead."""
        rows = self.db.query(
            "SELECT destination, operation, url, body, headers, message_id, attempts FROM delivery_message"
            " WHERE id = ? AND engine = ? AND state = ?",
            (delivery_id, self.name, DEAD),
        )
        if not rows:
            return False
        destination, operation, url, body, headers, message_id, attempts = rows[0]
        now = self.clock()
        self.db.execute(
            "UPDATE delivery_message SET state = ?, round_start = attempts, next_at = ?, settled_at = NULL"
            " WHERE id = ?",
            (PENDING, now, delivery_id),
        )
        item = _Item(delivery_id, destination, operation, url, bytes(body), orjson.loads(headers), message_id,
                     attempts, attempts, now)  # fmt: skip
        self._schedule(item)
        self._enqueued_at[delivery_id] = time.perf_counter()
        return True

    def message(self, delivery_id: int) -> dict[str, Any] | None:
        """One message with its attempts, as the admin views show it."""
        rows = self.db.query(f"SELECT {_COLUMNS} FROM delivery_message WHERE id = ? AND engine = ?",
                             (delivery_id, self.name))  # fmt: skip
        if not rows:
            return None
        shown = self._shown(rows[0])
        attempts = self.db.query(
            "SELECT attempt, started_at, outcome, status, latency_ms, error FROM delivery_attempt WHERE message = ?"
            " ORDER BY attempt",
            (delivery_id,),
        )
        shown["attempt_log"] = [
            {"attempt": n, "at": _iso(at), "outcome": outcome, "status": status, "latency_ms": latency, "error": error}
            for n, at, outcome, status, latency, error in attempts
        ]
        if shown["state"] == SENDING and len(attempts) < shown["attempts"]:  # its row is written when it ends
            item = self._items.get(delivery_id)
            started = _iso(item.started_at) if item is not None and item.started_at else None
            shown["attempt_log"].append({"attempt": shown["attempts"], "at": started, "outcome": "in_flight",
                                         "status": None, "latency_ms": None, "error": ""})  # fmt: skip
        shown["body"] = bytes(rows[0][-1]).decode("utf-8", "replace")
        return shown

    def messages(
        self, destination: str | None = None, state: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The newest messages first, optionally of one destination and/or state (no bodies)."""
        sql = f"SELECT {_COLUMNS} FROM delivery_message WHERE engine = ?"
        params: list[Any] = [self.name]
        if destination is not None:
            sql, params = sql + " AND destination = ?", [*params, destination]
        if state is not None:
            sql, params = sql + " AND state = ?", [*params, state]
        rows = self.db.query(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [self._shown(row) for row in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """Per destination: how many messages are in each state."""
        found: dict[str, dict[str, int]] = {}
        rows = self.db.query(
            "SELECT destination, state, COUNT(*) FROM delivery_message WHERE engine = ? GROUP BY destination, state",
            (self.name,),
        )
        for destination, state, count in rows:
            found.setdefault(destination, dict.fromkeys(STATES, 0))[state] = count
        return found

    def clear(self) -> None:
        """Forget every message of this engine (in flight ones finish unrecorded)."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM delivery_attempt WHERE message IN (SELECT id FROM delivery_message"
                         " WHERE engine = ?)", (self.name,))  # fmt: skip
            conn.execute("DELETE FROM delivery_message WHERE engine = ?", (self.name,))
        self._items.clear()
        self._heap.clear()
        self._ready.clear()
        self._enqueued_at.clear()

    def component(self) -> BackgroundTask:
        """The worker as an emulator component."""
        return BackgroundTask(f"{self.name}-delivery", self.run)

    async def run(self) -> None:
        """Send due messages until cancelled."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        try:
            while True:
                self._wake.clear()
                self._cycle()
                await self._sleep()
                await self._linger()
        finally:
            # asyncio.wait_for (3.11) can swallow a cancellation that races a finished answer: a worker may go
            # on, so it must also see the flag and find its idle wait ended
            self._stopping = True
            for task in list(self._tasks):
                task.cancel()
            for lane in self._lanes.values():
                for wake in lane.idle:
                    _resolve(wake, False)
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._cycle(launch=False)
            self._unbegin([item for lane in self._lanes.values() for item in lane.handoff])
            self._lanes.clear()
            self._loop = None

    # -- scheduling ---------------------------------------------------------------------------------

    def _schedule(self, item: _Item) -> None:
        self._items[item.id] = item
        heapq.heappush(self._heap, (item.next_at, item.id))
        self._poke()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    async def _sleep(self) -> None:
        # after _launch every due message has left the heap; what is ready but blocked by a busy destination
        # waits for a finished attempt, which wakes us
        assert self._wake is not None
        if not self._heap:
            await self._wake.wait()
            return
        delay = self._heap[0][0] - self.clock()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def _cycle(self, launch: bool = True) -> None:
        """One pass: commit finished attempts and, in the same transaction, the attempts about to start."""
        now = self.clock()
        done, self._done = self._done, []
        settled = self._settle(done, now) if done else ([], [], [])
        batch = self._choose(now) if launch else []
        if not done and not batch:
            return
        for item in batch:
            item.attempts += 1
        with self.db.transaction() as conn:
            if done:
                conn.executemany("INSERT OR REPLACE INTO delivery_attempt (message, attempt, started_at, outcome,"
                                 " status, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?)", settled[0])  # fmt: skip
                conn.executemany("UPDATE delivery_message SET state = ?, next_at = ?, settled_at = ?, last_error = ?,"
                                 " ack = COALESCE(?, ack) WHERE id = ?", settled[1])  # fmt: skip
            if batch:
                # the attempt is committed before the POST leaves: a crash from here on counts it
                conn.executemany("UPDATE delivery_message SET state = ?, attempts = ? WHERE id = ?",
                                 [(SENDING, item.attempts, item.id) for item in batch])  # fmt: skip
        for delivery_id, state in settled[2]:
            self._settled(delivery_id, state)
        if batch:
            self.stats.sent += len(batch)
            self._hand_off(batch, now)

    async def _linger(self) -> None:
        # group commit: while many attempts are in flight, let a few more finish before the next transaction
        # (one commit per ~dozens of outcomes instead of one per handful; costs at most `linger_s` of latency)
        in_flight = sum(self._in_flight.values())
        if self.linger_s and in_flight > 8 and len(self._done) < in_flight // 2:
            await asyncio.sleep(self.linger_s)

    def _choose(self, now: float) -> list[_Item]:
        """Due messages, as many as each destination's free slots (and the global limit) allow."""
        while self._heap and self._heap[0][0] <= now:
            _, delivery_id = heapq.heappop(self._heap)
            item = self._items.get(delivery_id)
            if item is not None:
                self._ready[item.destination].append(delivery_id)
        room = self.max_in_flight - sum(self._in_flight.values())
        batch: list[_Item] = []
        for destination, queue in self._ready.items():
            while queue and room > 0 and self._in_flight[destination] < self.per_destination:
                item = self._items.get(queue.popleft())
                if item is None:
                    continue
                self._in_flight[destination] += 1
                room -= 1
                batch.append(item)
        return batch

    def _hand_off(self, batch: list[_Item], now: float) -> None:
        touched = {}
        for item in batch:
            item.started_at = now
            lane = touched[item.destination] = self._lanes.setdefault(item.destination, _Lane())
            lane.handoff.append(item)
        for lane in touched.values():
            self._staff(lane)

    def _staff(self, lane: _Lane) -> None:
        """Give every attempt handed off a worker: wake idle ones, start new ones up to the lane's limit."""
        waiting = len(lane.handoff)
        while waiting and lane.idle:
            woken = lane.idle.popleft()
            if not woken.done():
                woken.set_result(True)
                waiting -= 1
        while waiting and lane.workers < self.per_destination:
            lane.workers += 1
            waiting -= 1
            task = asyncio.get_running_loop().create_task(self._work(lane))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self._stopping:
                while lane.handoff and not self._stopping:
                    item = lane.handoff.popleft()
                    await self._attempt(item, item.attempts)
                if self._stopping:
                    return
                wake: asyncio.Future[bool] = loop.create_future()
                lane.idle.append(wake)
                timer = loop.call_later(self.idle_worker_s, _resolve, wake, False)
                woken = await wake
                timer.cancel()
                if not woken and not lane.handoff:
                    with contextlib.suppress(ValueError):
                        lane.idle.remove(wake)
                    return
        finally:
            lane.workers -= 1

    def _unbegin(self, items: list[_Item]) -> None:
        """Attempts committed but never started (the worker stopped first) are not counted after all."""
        if not items:
            return
        with self.db.transaction() as conn:
            for item in items:
                item.attempts -= 1
                conn.execute("UPDATE delivery_message SET state = ?, attempts = ? WHERE id = ?",
                             (PENDING, item.attempts, item.id))  # fmt: skip
                self._in_flight[item.destination] -= 1
                heapq.heappush(self._heap, (item.next_at, item.id))
        self.stats.sent -= len(items)

    async def _attempt(self, item: _Item, attempt: int) -> None:
        policy = self.policy
        attributes = {"delivery_id": item.id, "message_id": item.message_id, "attempt": attempt,
                      "destination": item.destination}  # fmt: skip
        try:
            reply = await self.outbound.call(item.operation, "POST", item.url, policy.timeout_s, content=item.body,
                                             headers=item.headers, journal=False, resend_stale=False)  # fmt: skip
            verdict = self._judge(item, reply)
        except asyncio.CancelledError:
            self._in_flight[item.destination] -= 1
            raise
        except Exception as exc:  # our own bug must not wedge the message: count it as a failed attempt
            reply = Reply(None, b"", 0.0, "emulator_error", f"{type(exc).__name__}: {exc}", item.body)
            verdict = Verdict(False, "emulator_error", reply.detail)
        round_attempt = attempt - item.round_start
        notes = list(verdict.notes)
        if not verdict.delivered:
            last = round_attempt >= policy.max_resends + 1
            notes.append("dead-lettered: no re-sends left" if last else
                         f"will re-send in {policy.delay_before(round_attempt + 1):g} s")  # fmt: skip
        self.outbound.record(item.operation, "POST", item.url, reply, outcome=verdict.outcome,
                             violations=list(verdict.violations), notes=notes, attributes=attributes)  # fmt: skip
        self._in_flight[item.destination] -= 1
        self._done.append(_Done(item, attempt, reply, verdict))
        self._poke()

    def _judge(self, item: _Item, reply: Reply) -> Verdict:
        if reply.failure is not None:
            return Verdict(False, reply.failure, reply.detail or reply.failure)
        assert reply.status is not None
        if not 200 <= reply.status < 300:
            return Verdict(False, f"http_{reply.status}", f"the answer was HTTP {reply.status}, not 2xx")
        return self._validators.get(item.operation, accept_any_2xx)(reply, item.message_id)

    def _settle(
        self, done: list[_Done], now: float
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[int, str]]]:
        """The rows recording finished attempts; re-sends go back on the heap, settled messages leave memory."""
        policy = self.policy
        attempts, updates, settled = [], [], []
        for entry in done:
            item, verdict, reply = entry.item, entry.verdict, entry.reply
            attempts.append((item.id, entry.attempt, item.started_at, verdict.outcome, reply.status, reply.latency_ms,
                             verdict.error))  # fmt: skip
            # a judged acknowledgement is JSON: kept as received (cheaper than serialising it again)
            ack = reply.body.decode("utf-8", "replace") if verdict.ack is not None else None
            round_attempt = entry.attempt - item.round_start
            if verdict.delivered:
                state, next_at = DELIVERED, now
            elif round_attempt >= policy.max_resends + 1:
                state, next_at = DEAD, now
            else:
                state, next_at = PENDING, now + policy.delay_before(round_attempt + 1)
            updates.append((state, next_at, now if state != PENDING else None, verdict.error, ack, item.id))
            if state == PENDING:
                item.next_at = next_at
                heapq.heappush(self._heap, (next_at, item.id))
            else:
                self._items.pop(item.id, None)
                settled.append((item.id, state))
        return attempts, updates, settled

    def _settled(self, delivery_id: int, state: str) -> None:
        if state == DELIVERED:
            self.stats.delivered += 1
        else:
            self.stats.dead += 1
        began = self._enqueued_at.pop(delivery_id, None)
        if began is not None and len(self.stats.settle_latency_ms) < 1_000_000:
            self.stats.settle_latency_ms.append((time.perf_counter() - began) * 1000)
        if self.on_settled is not None:
            self.on_settled(delivery_id, state)

    # -- restart ------------------------------------------------------------------------------------

    def _recover(self) -> None:
        """Load what is not settled; an attempt that was in flight at a crash counts as sent and failed."""
        now = self.clock()
        rows = self.db.query(
            "SELECT id, destination, operation, url, body, headers, message_id, state, attempts, round_start, next_at"
            " FROM delivery_message WHERE engine = ? AND state IN (?, ?) ORDER BY id",
            (self.name, PENDING, SENDING),
        )
        interrupted = "the emulator stopped while this attempt was in flight; counted as sent"
        for row in rows:
            delivery_id, destination, operation, url, body, headers, message_id, state, attempts, start, next_at = row
            item = _Item(delivery_id, destination, operation, url, bytes(body), orjson.loads(headers), message_id,
                         attempts, start, next_at)  # fmt: skip
            if state == SENDING:
                self.stats.recovered_in_flight += 1
                self.db.execute("INSERT OR REPLACE INTO delivery_attempt (message, attempt, started_at, outcome,"
                                " error) VALUES (?, ?, ?, 'interrupted', ?)",
                                (delivery_id, attempts, now, interrupted))  # fmt: skip
                if attempts - start >= self.policy.max_resends + 1:
                    self.db.execute("UPDATE delivery_message SET state = ?, settled_at = ?, last_error = ?"
                                    " WHERE id = ?", (DEAD, now, interrupted, delivery_id))  # fmt: skip
                    continue
                item.next_at = now + self.policy.delay_before(attempts - start + 1)
                self.db.execute("UPDATE delivery_message SET state = ?, next_at = ?, last_error = ? WHERE id = ?",
                                (PENDING, item.next_at, interrupted, delivery_id))  # fmt: skip
            self._items[item.id] = item
            heapq.heappush(self._heap, (item.next_at, item.id))

    @property
    def _policy_key(self) -> str:
        return f"delivery.{self.name}.policy"

    def _stored_policy(self) -> Policy | None:
        raw = self.db.get_meta(self._policy_key) if self.db is not None else None
        if raw is None:
            return None
        try:
            return Policy.from_dict(orjson.loads(raw))
        except (PolicyError, orjson.JSONDecodeError, TypeError):
            return None

    def _shown(self, row: tuple[Any, ...]) -> dict[str, Any]:
        (delivery_id, destination, operation, url, message_id, state, attempts, round_start, next_at, created_at,
         settled_at, last_error, ack, _body) = row  # fmt: skip
        return {
            "id": delivery_id, "destination": destination, "operation": operation, "url": url,
            "message_id": message_id, "state": state, "attempts": attempts,
            "attempts_left": max(0, self.policy.max_resends + 1 - (attempts - round_start))
            if state in (PENDING, SENDING) else 0,
            "next_attempt_at": _iso(next_at) if state == PENDING else None,
            "created_at": _iso(created_at), "settled_at": _iso(settled_at) if settled_at else None,
            "last_error": last_error, "ack": orjson.loads(ack) if ack else None,
        }  # fmt: skip


_COLUMNS = ("id, destination, operation, url, message_id, state, attempts, round_start, next_at, created_at,"
            " settled_at, last_error, ack, body")  # fmt: skip


def _resolve(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


def _iso(moment: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
