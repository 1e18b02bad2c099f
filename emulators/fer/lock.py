"""One FER gateway per database: a running gateway holds a lock next to its SQLite file.

Why: `medstand fer seed` without --url writes into the database directly; into the data dir of a running
gateway it would silently diverge from the state that gateway holds in memory. The lock (flock, released
by the kernel when the process dies, so a SIGKILL leaves no stale lock) makes that a one-line refusal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from emulators.core.components import OK, Component, Health
from emulators.core.errors import UsageError


def lock_path(database_path: str) -> Path | None:
    """The lock file beside a SQLite file; None for a memory database or a server (PostgreSQL: path "")."""
    return None if database_path in {"", ":memory:"} else Path(database_path + ".fer.lock")


def _take(path: Path, holder: str) -> IO[str]:
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise UsageError(f"{path.parent} is in use by a running FER gateway ({owner}); {holder}") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


class DataDirLock(Component):
    """Held from start to stop of the gateway."""

    name = "data-dir-lock"

    def __init__(self, database_path: str) -> None:
        self.path = lock_path(database_path)
        self._handle: IO[str] | None = None

    async def start(self) -> None:
        if self.path is not None:
            self._handle = _take(self.path, "stop it first or use another --data-dir")

    async def stop(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def health(self) -> Health:
        return Health(OK, "" if self._handle or self.path is None else "not held")


@contextlib.contextmanager
def offline(database_path: str, url_hint: str) -> Iterator[None]:
    """Hold the lock while a tool writes into the database of a gateway that must not be running."""
    path = lock_path(database_path)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = _take(path, url_hint)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
