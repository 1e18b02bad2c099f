"""FER-FRESH-1: slots must be re-sent at least every 30 s, other data hourly; measured per MO OID."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Stream:
    last_at: float
    uploads: int = 1
    violations: int = 0
    longest_gap: float = 0.0


class Freshness:
    """Upload times per (MO OID, entity); a gap longer than the limit is a violation, and so is staleness now."""

    def __init__(self, slot_limit: float, other_limit: float, clock: Callable[[], float] = time.time) -> None:
        self.slot_limit = slot_limit
        self.other_limit = other_limit
        self.clock = clock
        self.streams: dict[tuple[str, str], Stream] = {}

    def limit(self, entity: str) -> float:
        return self.slot_limit if entity == "slot" else self.other_limit

    def uploaded(self, oid: str, entity: str) -> None:
        now = self.clock()
        stream = self.streams.get((oid, entity))
        if stream is None:
            self.streams[(oid, entity)] = Stream(now)
            return
        gap = now - stream.last_at
        stream.longest_gap = max(stream.longest_gap, gap)
        if gap > self.limit(entity):
            stream.violations += 1
        stream.last_at = now
        stream.uploads += 1

    def report(self) -> dict[str, Any]:
        now = self.clock()
        by_oid: dict[str, dict[str, Any]] = {}
        for (oid, entity), stream in sorted(self.streams.items()):
            age = now - stream.last_at
            by_oid.setdefault(oid, {})[entity] = {
                "last_upload_age_seconds": round(age, 3),
                "limit_seconds": self.limit(entity),
                "stale": age > self.limit(entity),
                "uploads": stream.uploads,
                "late_refreshes": stream.violations,
                "longest_gap_seconds": round(stream.longest_gap, 3),
            }
        return {
            "requirement": "FER-FRESH-1",
            "rule": f"slot at least every {self.slot_limit:g} s, other data every {self.other_limit:g} s",
            "by_mo_oid": by_oid,
        }

    def clear(self) -> None:
        self.streams.clear()
