"""One journal of every exchange, inbound or outbound, bounded in count, age and body size."""

from __future__ import annotations

import asyncio
import base64
import collections
import fnmatch
import hashlib
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from emulators.core.config import JournalSettings


@dataclass(frozen=True)
class Body:
    """A message body as journaled: its head kept as bytes (a PDF or a Kafka value stays intact), its full
    size, and its hash when truncated. Shown as text when it is UTF-8, as base64 otherwise."""

    raw: bytes
    size: int
    truncated: bool = False
    digest: str | None = None

    @classmethod
    def capture(cls, raw: bytes, limit: int) -> Body:
        if len(raw) <= limit:
            return cls(raw, len(raw))
        # BLAKE2b-128: a real hash at ~60% of SHA-256's cost on the ingest path (300 KB per 1 000 slots)
        digest = "blake2b-128:" + hashlib.blake2b(raw, digest_size=16).hexdigest()
        return cls(raw[:limit], len(raw), True, digest)

    @property
    def text(self) -> str | None:
        """The body as text, or None when it is not UTF-8 (a cut at the limit may split one character)."""
        for cut in range(4 if self.truncated else 1):
            try:
                return self.raw[: len(self.raw) - cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
        return None

    def as_dict(self) -> dict[str, Any]:
        text = self.text
        shown: dict[str, Any] = {"text": text} if text is not None else {
            "base64": base64.b64encode(self.raw).decode("ascii"), "encoding": "base64"}  # fmt: skip
        shown["size"] = self.size
        if self.truncated:
            shown.update(truncated=True, hash=self.digest)
        return shown


@dataclass(frozen=True)
class Message:
    """One side of an exchange: an HTTP request/response, a SOAP envelope or a Kafka record."""

    body: Body
    method: str | None = None
    target: str | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"body": self.body.as_dict(), "headers": dict(self.headers)}
        for name in ("method", "target", "status"):
            if getattr(self, name) is not None:
                shown[name] = getattr(self, name)
        return shown


@dataclass(frozen=True)
class Event:
    """An immutable record of one exchange (WireMock's ServeEvent)."""

    id: int
    at: float
    emulator: str
    direction: str
    operation: str
    request: Message
    response: Message | None
    latency_ms: float | None
    outcome: str = "ok"
    violations: tuple[dict[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    # protocol facts: topic, partition, offset, key, soap_action, message_id, attempt …
    attributes: dict[str, Any] = field(default_factory=dict)
    fault: dict[str, Any] | None = None  # the injected fault that caused this outcome: {"id", "kind"}

    @property
    def timestamp(self) -> str:
        return datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.timestamp,
            "emulator": self.emulator,
            "direction": self.direction,
            "operation": self.operation,
            "outcome": self.outcome,
            "latency_ms": self.latency_ms,
            "request": self.request.as_dict(),
            "response": self.response.as_dict() if self.response else None,
            "violations": list(self.violations),
            "notes": list(self.notes),
            "details": self.details,
            "attributes": self.attributes,
            "fault": self.fault,
        }


DIRECTIONS = ("inbound", "outbound", "produced", "consumed")


@dataclass(frozen=True)
class Query:
    """Filters over the journal; `operation` and `outcome` accept shell-style wildcards (`slot.*`, `fault:*`);
    `attributes` must all be equal (compared as text)."""

    operation: str | None = None
    direction: str | None = None
    since_id: int = 0
    since_time: float = 0.0
    outcome: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    emulator: str | None = None

    def matches(self, event: Event) -> bool:
        if event.id <= self.since_id or event.at < self.since_time:
            return False
        if self.direction and event.direction != self.direction:
            return False
        if self.emulator and event.emulator != self.emulator:
            return False
        if self.outcome and not fnmatch.fnmatchcase(event.outcome, self.outcome):
            return False
        for name, value in self.attributes:
            if name not in event.attributes or str(event.attributes[name]) != value:
                return False
        return not self.operation or fnmatch.fnmatchcase(event.operation, self.operation)


class Journal:
    """Thread-safe bounded store of events with waiters, for HTTP handlers, SOAP threads and Kafka threads."""

    def __init__(self, settings: JournalSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.enabled = settings.enabled
        self._clock = clock
        self._events: collections.deque[Event] = collections.deque(maxlen=max(1, settings.max_events))
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._async_waiters: list[tuple[Query, asyncio.AbstractEventLoop, asyncio.Future[Event]]] = []
        self._subscribers: list[Callable[[Event], None]] = []
        self.recorded = 0

    def subscribe(self, callback: Callable[[Event], None]) -> None:
        """Call `callback` with every new event (used for the one-line exchange log)."""
        self._subscribers.append(callback)

    def capture(self, raw: bytes, mask: frozenset[str] | None = None) -> Body:
        """The journaled form of a body; `mask` names JSON keys whose values are secrets."""
        return Body.capture(mask_secrets(raw, mask) if mask else raw, self.settings.max_body_bytes)

    def record(self, **fields: Any) -> Event | None:
        """Append one event built from `fields`; returns it, or None when the journal is switched off."""
        if not self.enabled:
            return None
        with self._lock:
            event = Event(id=next(self._ids), at=fields.pop("at", None) or self._clock(), **fields)
            self._events.append(event)
            self.recorded += 1
            self._expire(event.at)
            self._lock.notify_all()
            waiters = [w for w in self._async_waiters if w[0].matches(event)]
            for waiter in waiters:
                self._async_waiters.remove(waiter)
        for _query, loop, future in waiters:
            loop.call_soon_threadsafe(_resolve, future, event)
        for callback in self._subscribers:
            callback(event)
        return event

    def _expire(self, now: float) -> None:
        horizon = now - self.settings.max_age_seconds
        while self._events and self._events[0].at < horizon:
            self._events.popleft()

    def find(self, query: Query = Query(), limit: int | None = None) -> list[Event]:
        """Matching events, oldest first; with `limit`, the newest `limit` of them."""
        with self._lock:
            self._expire(self._clock())
            found = [event for event in self._events if query.matches(event)]
        return found[-limit:] if limit else found

    def last_id(self) -> int:
        with self._lock:
            return self._events[-1].id if self._events else 0

    def wait_for(self, query: Query, within: float) -> Event | None:
        """Block the calling thread until an event matches, or return None after `within` seconds."""
        deadline = time.monotonic() + within
        with self._lock:
            while True:
                match = next((e for e in self._events if query.matches(e)), None)
                remaining = deadline - time.monotonic()
                if match or remaining <= 0:
                    return match
                self._lock.wait(remaining)

    async def wait_for_async(self, query: Query, within: float) -> Event | None:
        """The same as wait_for, for an event loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Event] = loop.create_future()
        with self._lock:
            match = next((e for e in self._events if query.matches(e)), None)
            if match:
                return match
            self._async_waiters.append((query, loop, future))
        try:
            async with asyncio.timeout(within):
                return await future
        except TimeoutError:
            return None
        finally:
            with self._lock:
                self._async_waiters = [w for w in self._async_waiters if w[2] is not future]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "enabled": self.enabled,
                "events": len(self._events),
                "recorded_total": self.recorded,
                "max_events": self._events.maxlen,
                "max_age_seconds": self.settings.max_age_seconds,
                "max_body_bytes": self.settings.max_body_bytes,
            }


def _resolve(future: asyncio.Future[Event], event: Event) -> None:
    if not future.done():
        future.set_result(event)


MASK = "***"


def mask_secrets(raw: bytes, keys: frozenset[str]) -> bytes:
    """The body with the values of `keys` (at any depth of a JSON document) replaced by ***.

    A body that is not JSON is masked by pattern, so a malformed request still shows no password."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _mask_pattern(raw, keys)
    return orjson.dumps(_masked(document, keys))


def _masked(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if k in keys and v is not None else _masked(v, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(item, keys) for item in value]
    return value


def _mask_pattern(raw: bytes, keys: frozenset[str]) -> bytes:
    for key in keys:
        pattern = rb'("' + re.escape(key.encode()) + rb'"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\s]+)'
        raw = re.sub(pattern, rb'\1"***"', raw)
    return raw


def headers_of(pairs: Iterable[tuple[bytes, bytes]], keep: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """The headers worth journaling (the rest are noise), with the credential part of Authorization masked."""
    shown = []
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1").lower()
        if name in keep:
            value = raw_value.decode("latin-1")
            if name == "authorization" and len(value) > 24:
                value = value[:20] + "…"
            shown.append((name, value))
    return tuple(shown)
