"""The one storage module: SQLite by URL (a file under the data dir, or :memory:) or PostgreSQL by URL.

Every emulator owns its tables and creates them through `Database.ensure_schema`. The SQL used by the
emulators sticks to what SQLite and PostgreSQL share (ON CONFLICT upserts, row values); `core/pgsql.py`
translates the rest (placeholders, DDL types, INSERT OR …, lastrowid), so the emulators do not know which
database they run on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from emulators.core import pgsql
from emulators.core.components import DEGRADED, OK, Health
from emulators.core.errors import ConfigError, EmulatorError

Row = tuple[Any, ...]
log = logging.getLogger("medstand.storage")


class Database:
    """SQLite for one process: a connection for callers (statements serialised by a lock) and, for the
    writer threads, a connection of their own — so a read on the event loop never waits behind a
    group commit or a compaction (WAL lets readers run beside the writer)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect: pgsql.Dialect | None = None
        if url.startswith(("postgresql://", "postgres://")):
            self.path = ""
            self.dialect = pgsql.Dialect()
        else:
            self.path = _sqlite_path(url)
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._connect()
        self._lock = threading.RLock()
        self._conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._writer_conn: sqlite3.Connection | None = None
        self._writer_lock = threading.RLock()
        self._deferred: BackgroundWriter | None = None
        self.writers: list[BackgroundWriter] = []

    @property
    def kind(self) -> str:
        return "postgresql" if self.dialect is not None else "sqlite"

    def _connect(self) -> Any:
        if self.dialect is not None:
            return pgsql.Connection(self.url, self.dialect)
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            # WAL + synchronous=NORMAL: a committed transaction survives a SIGKILL of the emulator process
            # (it is in the WAL file); only a power loss can take the last ones. Fast enough for load.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA temp_store=MEMORY")
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot open the database {self.url}: {exc}") from exc
        return conn

    @contextlib.contextmanager
    def writer_transaction(self) -> Iterator[sqlite3.Connection]:
        """A transaction on the writer threads' own connection (BackgroundWriter batches).

        A memory database has one connection only (a second would be another database): it is shared."""
        if self.path == ":memory:":
            with self.transaction() as shared:
                yield shared
            return
        with self._writer_lock:
            if self._writer_conn is None:
                self._writer_conn = self._connect()
            conn = self._writer_conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def health(self) -> Health:
        """degraded when a writer gave up on a batch (after its retries): those writes are not stored."""
        failed = [w for w in self.writers if w.failed]
        if not failed:
            return Health(OK)
        detail = "; ".join(f"{w.name}: {w.failed} write(s) failed, last: {w.last_error}" for w in failed)
        return Health(DEGRADED, detail)

    def ensure_schema(self, statements: Iterable[str]) -> None:
        """Create the caller's tables and indexes if they are missing."""
        with self.transaction():
            for statement in statements:
                self._conn.execute(statement)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work; rolls back on any exception."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def defer(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a write soon, in the writer thread, grouped with others (callers keep the data in memory).

        Returns a ticket: `await db.durable(ticket)` waits until it is committed."""
        if self._deferred is None:
            self._deferred = self.writer("deferred-writes", self._execute_all)
        return self._deferred.put((sql, params))

    async def durable(self, ticket: int) -> None:
        """Wait until the deferred write `ticket` is committed; StorageError if it could not be."""
        if self._deferred is not None:
            await self._deferred.durable(ticket)

    def writer(self, name: str, write: Callable[[list[Any]], None], linger: float = 0.02) -> BackgroundWriter:
        """A BackgroundWriter whose failures show in `health()`."""
        made = BackgroundWriter(name, write, linger)
        self.writers.append(made)
        return made

    def _execute_all(self, batch: list[tuple[str, Sequence[Any]]]) -> None:
        with self.writer_transaction() as conn:
            for sql, params in batch:
                conn.execute(sql, params)

    def flush(self) -> None:
        """Wait until deferred writes are committed."""
        if self._deferred is not None:
            self._deferred.flush()

    def get_meta(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def close(self) -> None:
        if self._deferred is not None:
            self._deferred.close()
        with self._writer_lock:
            if self._writer_conn is not None:
                self._writer_conn.close()
                self._writer_conn = None
        with self._lock:
            self._conn.close()


class StorageError(EmulatorError):
    """A write the emulator had accepted could not be stored (after retries)."""


class BackgroundWriter:
    """One thread that commits queued items in groups, in order; `write(batch)` does the SQL.

    Each `put` returns a ticket; `await durable(ticket)` (or `flush`) waits until that item is committed,
    so an answer can wait for its own group commit. Group commit is adaptive: while nobody waits, the
    thread lingers `linger` seconds after the first item so one transaction carries everything queued
    meanwhile; as soon as somebody waits it commits what is queued at once, and whatever arrives during
    that commit rides in the next one — the batch grows with the load, the wait stays one commit. (Measured with
    benchmarks/fer_small.py, 16 clients: lingering 1 or 3 ms for more answers once one waits lowered the
    throughput, 0.256 → 0.239 → 0.203 of the reference: the answers are bound by this latency, not by commits.)
    A failed batch is retried (`retries`, with a growing pause); if it still fails it is counted, the
    waiters get StorageError, and `Database.health()` reports degraded. The thread never dies of it.
    """

    def __init__(
        self, name: str, write: Callable[[list[Any]], None], linger: float = 0.02,
        retries: tuple[float, ...] = (0.05, 0.25, 1.0),
    ) -> None:  # fmt: skip
        self.name = name
        self._write = write
        self.linger = linger
        self.retries = retries
        self._queue: list[Any] = []
        self._cond = threading.Condition()
        self._queued = self._written = 0
        self._idle = True  # the thread waits for a first item: only then does `put` need to wake it
        self._flushing = 0
        self._closed = False
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._failed_ranges: collections.deque[tuple[int, int]] = collections.deque(maxlen=1000)
        self.failed = 0
        self.last_error = ""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, item: Any) -> int:
        """Queue one item; returns its ticket."""
        with self._cond:
            self._queue.append(item)
            self._queued += 1
            if self._idle:
                self._cond.notify_all()
            return self._queued

    async def durable(self, ticket: int) -> None:
        """Wait (without blocking the loop) until item `ticket` is committed; StorageError if it failed."""
        loop = asyncio.get_running_loop()
        with self._cond:
            if self._written < ticket:
                future: asyncio.Future[None] = loop.create_future()
                self._waiters.append((ticket, loop, future))
                self._cond.notify_all()  # stop lingering: somebody is waiting
            else:
                future = None  # type: ignore[assignment]
        if future is not None:
            await future
        self._raise_if_failed(ticket)

    def _raise_if_failed(self, ticket: int) -> None:
        for low, high in self._failed_ranges:
            if low <= ticket <= high:
                raise StorageError(f"{self.name}: the write was not stored ({self.last_error})")

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything put so far is committed (or given up)."""
        with self._cond:
            target = self._queued
            self._flushing += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: self._written >= target, timeout)
            finally:
                self._flushing -= 1

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue and self._closed:
                    return
                self._idle = False
                if self.linger > 0:
                    self._cond.wait_for(lambda: self._flushing or self._waiters or self._closed, self.linger)
                batch, self._queue = self._queue, []
                first = self._written + 1
            stored = self._commit(batch)
            with self._cond:
                self._written += len(batch)
                if not stored:
                    self._failed_ranges.append((first, self._written))
                self._idle = True
                done = [w for w in self._waiters if w[0] <= self._written]
                self._waiters = [w for w in self._waiters if w[0] > self._written]
                self._cond.notify_all()
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for _ticket, loop, future in done:
                by_loop.setdefault(loop, []).append(future)
            for loop, futures in by_loop.items():  # one wake-up of each loop per commit, not one per answer
                with contextlib.suppress(RuntimeError):  # a loop that has closed meanwhile
                    loop.call_soon_threadsafe(_settle, futures)

    def _commit(self, batch: list[Any]) -> bool:
        for attempt, pause in enumerate((*self.retries, None)):
            try:
                self._write(batch)
                return True
            except Exception as exc:  # a full disk must not kill the writer
                self.last_error = f"{type(exc).__name__}: {exc}"
                if pause is None:
                    log.error("%s: %d queued write(s) failed after %d retries: %s", self.name, len(batch),
                              attempt, self.last_error)  # fmt: skip
                    self.failed += len(batch)
                    return False
                log.warning("%s: write failed (%s), retrying in %g s", self.name, self.last_error, pause)
                time.sleep(pause)
        return False


def _settle(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


def sqlite_path(url: str) -> str:
    """The file a sqlite:/// URL names (":memory:" for a memory database, "" for PostgreSQL)."""
    if url.startswith(("postgresql://", "postgres://")):
        return ""
    return _sqlite_path(url)


def _sqlite_path(url: str) -> str:
    if url in {"sqlite://", "sqlite:///:memory:", ":memory:"}:
        return ":memory:"
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    raise ConfigError(
        f"unsupported database URL {url!r}: expected sqlite:///PATH, sqlite:///:memory: or postgresql://USER@HOST/DB"
    )


class RecordLog:
    """Durable state for high-volume tables: an append-only change log plus compacted snapshots.

    Emulators keep such tables in memory (with their indexes) and call `append` for every change;
    a writer thread group-commits the log to the database, so a 1 000-record upload costs one row,
    not 1 000. On start `replay` yields the last snapshot and then the log; `compact` replaces both
    with a fresh snapshot once the log has grown past `compact_after` entries.
    """

    def __init__(self, db: Database, stream: str, compact_after: int = 5000) -> None:
        self.db = db
        self.stream = stream
        self.compact_after = compact_after
        db.ensure_schema(
            [
                "CREATE TABLE IF NOT EXISTS record_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL,"
                " op TEXT NOT NULL, payload BLOB NOT NULL)",
                "CREATE TABLE IF NOT EXISTS record_snapshot (stream TEXT NOT NULL, chunk INTEGER NOT NULL,"
                " payload BLOB NOT NULL, PRIMARY KEY (stream, chunk))",
            ]
        )
        self.entries = self._count()
        # items: (op, payload bytes), or ("__compact__", a factory of snapshot chunks)
        self._writer = db.writer(f"record-log-{stream}", self._write)

    @property
    def failed_writes(self) -> int:
        return self._writer.failed

    def _count(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM record_log WHERE stream = ?", (self.stream,))[0][0])

    def replay(self) -> Iterator[tuple[str, bytes]]:
        """(op, payload) pairs: the snapshot chunks as op 'snapshot', then the log in order."""
        rows = self.db.query("SELECT payload FROM record_snapshot WHERE stream = ? ORDER BY chunk", (self.stream,))
        for (payload,) in rows:
            yield "snapshot", bytes(payload)
        for op, payload in self.db.query(
            "SELECT op, payload FROM record_log WHERE stream = ? ORDER BY seq", (self.stream,)
        ):
            yield op, bytes(payload)

    def append(self, op: str, payload: bytes) -> int:
        """Queue one change; it is committed within milliseconds, in order. Returns its ticket."""
        self.entries += 1
        return self._writer.put((op, payload))

    async def durable(self, ticket: int) -> None:
        """Wait until change `ticket` (and all before it) is committed: answer only then (survives SIGKILL)."""
        await self._writer.durable(ticket)

    def compact(self, chunks: Callable[[], Iterable[bytes]]) -> None:
        """Replace the snapshot with `chunks()` (the whole current state) and drop the log written so far.

        `chunks` runs in the writer thread, so serialising a large state does not stall the caller; it must
        only read data that is never mutated in place.
        """
        self.entries = 0
        self._writer.put(("__compact__", chunks))

    def clear(self) -> None:
        self.compact(list)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything appended so far is committed."""
        return self._writer.flush(timeout)

    def close(self) -> None:
        self._writer.close()

    def _write(self, batch: list[Any]) -> None:
        # snapshots are serialised before the transaction, so the write lock is held only for the inserts
        batch = [(op, list(payload()) if op == "__compact__" else payload) for op, payload in batch]
        with self.db.writer_transaction() as conn:
            plain: list[tuple[str, str, bytes]] = []
            for op, payload in batch:
                if op != "__compact__":
                    plain.append((self.stream, op, payload))
                    continue
                conn.executemany("INSERT INTO record_log (stream, op, payload) VALUES (?, ?, ?)", plain)
                plain = []
                conn.execute("DELETE FROM record_log WHERE stream = ?", (self.stream,))
                conn.execute("DELETE FROM record_snapshot WHERE stream = ?", (self.stream,))
                conn.executemany(
                    "INSERT INTO record_snapshot (stream, chunk, payload) VALUES (?, ?, ?)",
                    [(self.stream, i, chunk) for i, chunk in enumerate(payload)],
                )
            conn.executemany("INSERT INTO record_log (stream, op, payload) VALUES (?, ?, ?)", plain)
