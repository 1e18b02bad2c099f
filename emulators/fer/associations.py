"""The gateway's associations_slots table (UC-1, UC-1.1): slot_id -> (book_ext_id, status)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from emulators.core.storage import Database

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fer_association (slot_id TEXT PRIMARY KEY, book_ext_id TEXT, status TEXT NOT NULL,"
    " at REAL NOT NULL)"
]


class Associations:
    """In memory (read on every book upload), written behind to SQLite; `set` returns the write's ticket."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        db.ensure_schema(SCHEMA)
        self._slots = {s: (b, st) for s, b, st in db.query("SELECT slot_id, book_ext_id, status FROM fer_association")}

    def book_ext_id(self, slot_id: str) -> str | None:
        found = self._slots.get(slot_id)
        return found[0] if found else None

    def status(self, slot_id: str) -> str | None:
        found = self._slots.get(slot_id)
        return found[1] if found else None

    def set(self, slot_id: str, book_ext_id: str | None, status: str) -> int:
        self._slots[slot_id] = (book_ext_id, status)
        return self.db.defer(
            "INSERT INTO fer_association (slot_id, book_ext_id, status, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(slot_id) DO UPDATE SET book_ext_id = excluded.book_ext_id, status = excluded.status,"
            " at = excluded.at",
            (slot_id, book_ext_id, status, self.clock()),
        ) or 0

    def items(self) -> Iterable[tuple[str, str | None, str]]:
        return [(slot, ext_id, status) for slot, (ext_id, status) in self._slots.items()]

    def __len__(self) -> int:
        return len(self._slots)

    def clear(self) -> None:
        self._slots.clear()
        self.db.defer("DELETE FROM fer_association")
