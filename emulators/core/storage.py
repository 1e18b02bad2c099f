"""The one storage module: SQLite by URL (a file under the data dir, or :memory:), survives restarts.

Every emulator owns its tables and creates them through `Database.ensure_schema`. The SQL used by the
emulators sticks to what SQLite and PostgreSQL share (ON CONFLICT upserts, row values), so that a
PostgreSQL backend can be added here by URL without touching the emulators.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from emulators.core.errors import ConfigError

Row = tuple[Any, ...]
log = logging.getLogger("medstand.storage")


class Database:
    """A single SQLite connection shared by one process; statements are serialised by a lock."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = _sqlite_path(url)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        # WAL + synchronous=NORMAL: durable across a crash of the emulator process, fast enough for load.
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=OFF")
        self._conn.execute("PRAGMA cache_size=-65536")
        self._conn.execute("PRAGMA temp_store=MEMORY")
        self._conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._deferred: BackgroundWriter | None = None

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

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a write soon, in the writer thread, grouped with others (callers keep the data in memory)."""
        if self._deferred is None:
            self._deferred = BackgroundWriter("deferred-writes", self._execute_all)
        self._deferred.put((sql, params))

    def _execute_all(self, batch: list[tuple[str, Sequence[Any]]]) -> None:
        with self.transaction() as conn:
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
        with self._lock:
            self._conn.close()


class BackgroundWriter:
    """One thread that commits queued items in groups, in order; `write(batch)` does the SQL.

    Group commit: once an item arrives the thread lingers `linger` seconds (unless someone is waiting in
    `flush`) so that one transaction carries everything queued meanwhile. Under load this turns thousands
    of tiny transactions, and as many hand-overs of the interpreter lock, into a few dozen a second.
    A failed batch is logged and counted, never fatal: the emulator keeps serving the state it holds.
    """

    def __init__(self, name: str, write: Callable[[list[Any]], None], linger: float = 0.02) -> None:
        self._write = write
        self.linger = linger
        self._queue: list[Any] = []
        self._cond = threading.Condition()
        self._queued = self._written = 0
        self._idle = True  # the thread waits for a first item: only then does `put` need to wake it
        self._flushing = 0
        self._closed = False
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        with self._cond:
            self._queue.append(item)
            self._queued += 1
            if self._idle:
                self._cond.notify_all()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything put so far is committed."""
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
                    self._cond.wait_for(lambda: self._flushing or self._closed, self.linger)
                batch, self._queue = self._queue, []
            try:
                self._write(batch)
            except Exception:  # a full disk must not kill the writer
                log.exception("%s: %d queued write(s) failed", self._thread.name, len(batch))
                self.failed += len(batch)
            with self._cond:
                self._written += len(batch)
                self._idle = True
                self._cond.notify_all()


def _sqlite_path(url: str) -> str:
    if url in {"sqlite://", "sqlite:///:memory:", ":memory:"}:
        return ":memory:"
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    if url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "PostgreSQL URLs are accepted by the settings but the backend is not built yet; use sqlite:///PATH"
        )
    raise ConfigError(f"unsupported database URL {url!r}: expected sqlite:///PATH or sqlite:///:memory:")


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
        self._writer = BackgroundWriter(f"record-log-{stream}", self._write)

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

    def append(self, op: str, payload: bytes) -> None:
        """Queue one change; it is committed within milliseconds, in order."""
        self.entries += 1
        self._writer.put((op, payload))

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
        with self.db.transaction() as conn:
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
                    [(self.stream, i, chunk) for i, chunk in enumerate(payload())],
                )
            conn.executemany("INSERT INTO record_log (stream, op, payload) VALUES (?, ?, ?)", plain)
