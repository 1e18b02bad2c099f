"""FER-ENV-2: MO OIDs whose writes answer 405 — set from the admin API or after too many technical errors."""

from __future__ import annotations

import time
from collections.abc import Callable

from emulators.core.storage import Database

SCHEMA = ["CREATE TABLE IF NOT EXISTS fer_block (oid TEXT PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL)"]


class Blocks:
    """Blocked OIDs (SQLite, with an in-memory set read on every write) and the technical-error counts."""

    def __init__(self, db: Database, threshold: int, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.threshold = threshold  # fer.block_after_errors; 0 = never
        self.clock = clock
        db.ensure_schema(SCHEMA)
        self.blocked = {row[0] for row in db.query("SELECT oid FROM fer_block")}
        self.technical_errors: dict[str, int] = {}

    def is_blocked(self, oid: str) -> bool:
        return oid in self.blocked

    def block(self, oid: str, reason: str) -> None:
        self.db.execute(
            "INSERT INTO fer_block (oid, reason, at) VALUES (?, ?, ?)"
            " ON CONFLICT(oid) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            (oid, reason, self.clock()),
        )
        self.blocked.add(oid)

    def unblock(self, oid: str | None) -> int:
        """Lift the 405 of one OID (or of all) and forget its technical-error count."""
        if oid:
            removed = self.db.execute("DELETE FROM fer_block WHERE oid = ?", (oid,))
            self.technical_errors.pop(oid, None)
            self.blocked.discard(oid)
        else:
            removed = self.db.execute("DELETE FROM fer_block")
            self.technical_errors.clear()
            self.blocked.clear()
        return removed

    def count_error(self, oid: str) -> bool:
        """One more rejected upload of `oid`; True when this one reached the threshold and blocked it."""
        count = self.technical_errors.get(oid, 0) + 1
        self.technical_errors[oid] = count
        if not self.threshold or count < self.threshold:
            return False
        self.block(oid, f"{count} technical errors (threshold fer.block_after_errors = {self.threshold})")
        return True

    def listing(self) -> list[dict[str, str]]:
        rows = self.db.query("SELECT oid, reason FROM fer_block ORDER BY oid")
        return [{"oid": oid, "reason": reason} for oid, reason in rows]
