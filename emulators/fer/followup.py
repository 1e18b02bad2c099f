"""Every ЕПГУ booking and what the MIS uploaded after it (FER-REF-3, FER-FRESH-1): `/__admin/state` → bookings."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from emulators.core.storage import Database
from emulators.fer.showcase import Showcase

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fer_booking (book_ext_id TEXT PRIMARY KEY, slot_id TEXT NOT NULL, oid TEXT NOT NULL,"
    " patient_id TEXT NOT NULL, referral_id TEXT, booking_type TEXT NOT NULL, status TEXT NOT NULL,"
    " booked_at REAL NOT NULL, cancelled_at REAL, followup TEXT NOT NULL DEFAULT '{}')"
]
COLUMNS = ("book_ext_id", "slot_id", "oid", "patient_id", "referral_id", "booking_type", "status", "booked_at",
           "cancelled_at", "followup")  # fmt: skip
STEP_TEXT = {
    "book_uploaded": "the MIS uploaded book {ext_id} (id = book_ext_id, FER-REF-3)",
    "slot_recorded": "the MIS uploaded slot {slot_id} as RECORDED after the ЕПГУ booking (FER-FRESH-1)",
    "slot_available": "the MIS uploaded slot {slot_id} as AVAILABLE after the ЕПГУ cancel (FER-FRESH-1)",
}
Early = tuple[str, str, Any, float]  # (entity, key, status, at)


class Followups:
    """Bookings in memory (read on the MIS's uploads), written behind to fer_booking.

    Watched by slot id from the moment a request goes to the MIS: a MIS may upload before its answer has
    been processed here; such uploads are kept (only while the call is in flight) and counted afterwards.
    """

    def __init__(self, db: Database, showcase: Showcase, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.showcase = showcase
        self.clock = clock
        self.followup_seconds = 30.0
        db.ensure_schema(SCHEMA)
        self.records: dict[str, dict[str, Any]] = {}
        self.latest: dict[str, str] = {}  # slot_id -> the latest book_ext_id on it
        for row in db.query(f"SELECT {', '.join(COLUMNS)} FROM fer_booking ORDER BY booked_at"):
            record = dict(zip(COLUMNS, row, strict=True))
            record["followup"] = orjson.loads(record["followup"])
            self.records[record["book_ext_id"]] = record
            self.latest[record["slot_id"]] = record["book_ext_id"]
        self.watched = set(self.latest)
        self.in_flight: set[str] = set()  # slots whose book/cancel is being answered right now
        self.early: dict[str, list[Early]] = {}

    def calling(self, slot_id: str) -> None:
        self.watched.add(slot_id)
        self.in_flight.add(slot_id)

    def answered(self, slot_id: str, stands: bool) -> None:
        """The call is over; `stands` False: nothing was booked, so the slot's early uploads mean nothing."""
        self.in_flight.discard(slot_id)
        if stands or slot_id in self.latest:
            self.replay_early(slot_id)
            return
        self.early.pop(slot_id, None)
        self.watched.discard(slot_id)  # a failed booking leaves nothing to watch

    def booked(self, record: dict[str, Any]) -> int:
        ext_id = record["book_ext_id"]
        self.records[ext_id] = record
        self.latest[record["slot_id"]] = ext_id
        return self.db.defer(
            "INSERT INTO fer_booking (book_ext_id, slot_id, oid, patient_id, referral_id, booking_type, status,"
            " booked_at) VALUES (?, ?, ?, ?, ?, ?, 'RECORDED', ?) ON CONFLICT(book_ext_id) DO UPDATE SET"
            " slot_id = excluded.slot_id, status = 'RECORDED', booked_at = excluded.booked_at, cancelled_at = NULL,"
            " followup = '{}'",
            (ext_id, record["slot_id"], record["oid"], record["patient_id"], record["referral_id"],
             record["booking_type"], record["booked_at"]),
        )  # fmt: skip

    def cancelled(self, ext_id: str, at: float) -> int:
        self.records[ext_id].update(status="CANCELED", cancelled_at=at)
        return self.db.defer("UPDATE fer_booking SET status = 'CANCELED', cancelled_at = ? WHERE book_ext_id = ?",
                             (at, ext_id))  # fmt: skip

    def observe_upload(self, entity: str, keys: list[str]) -> list[str]:
        """Notes for the upload's journal entry when it completes a booking's follow-up."""
        if entity not in {"book", "slot"} or not keys or not self.watched:
            return []
        show = self.showcase
        if entity == "slot":
            seen = [(k, k, show.value("slot", k, "status")) for k in self.watched.intersection(keys) if show.exists("slot", k)]
        else:
            seen = []
            for key in keys:
                slot_id = show.value("book", key, "slot_id")
                if slot_id in self.watched:
                    seen.append((key, slot_id, (show.record("book", key) or {}).get("status_code")))
        notes: list[str] = []
        for key, slot_id, status in seen:
            notes.extend(self._observe(entity, key, slot_id, status, self.clock()))
        return notes

    def _observe(self, entity: str, key: str, slot_id: str, status: Any, at: float) -> list[str]:
        ext_id = self.latest.get(slot_id)
        if slot_id in self.in_flight:
            self.early.setdefault(slot_id, []).append((entity, key, status, at))
            return []
        if ext_id is None:
            return []
        booking = self.records[ext_id]
        step, since = _step(entity, key, status, ext_id, booking)
        seen = booking["followup"]
        if step is None or step in seen:
            return []
        seen[step] = round(max(0.0, at - since), 3)
        self.db.defer("UPDATE fer_booking SET followup = ? WHERE book_ext_id = ?", (orjson.dumps(seen), ext_id))
        return [f"{STEP_TEXT[step].format(ext_id=ext_id, slot_id=slot_id)} after {seen[step]:.1f} s"]

    def replay_early(self, slot_id: str) -> None:
        for entity, key, status, at in self.early.pop(slot_id, []):
            self._observe(entity, key, slot_id, status, at)

    def report(self) -> list[dict[str, Any]]:
        """Every ЕПГУ booking with what the MIS did afterwards, and what is overdue (fer.followup_seconds)."""
        now = self.clock()
        found = []
        for booking in sorted(self.records.values(), key=lambda b: b["booked_at"]):
            status, seen = booking["status"], booking["followup"]
            expected = ["book_uploaded", "slot_recorded"] if status == "RECORDED" else ["slot_available"]
            since = booking["booked_at"] if status == "RECORDED" else booking["cancelled_at"] or booking["booked_at"]
            overdue = [step for step in expected if step not in seen and now - since > self.followup_seconds]
            found.append({"book_ext_id": booking["book_ext_id"], "slot_id": booking["slot_id"],
                          "mo_oid": booking["oid"], "status": status, "booked_at": booking["booked_at"],
                          "cancelled_at": booking["cancelled_at"], "seconds_until": dict(seen),
                          "awaiting": [s for s in expected if s not in seen], "overdue": overdue})  # fmt: skip
        return found

    def clear(self) -> None:
        self.records.clear()
        self.latest.clear()
        self.db.defer("DELETE FROM fer_booking")
        self.watched.clear()
        self.early.clear()
        self.in_flight.clear()


def _step(entity: str, key: str, status: Any, ext_id: str, booking: dict[str, Any]) -> tuple[str | None, float]:
    if booking["status"] == "RECORDED":
        if entity == "book" and key == ext_id and status == 5000:
            return "book_uploaded", booking["booked_at"]
        if entity == "slot" and status == "RECORDED":
            return "slot_recorded", booking["booked_at"]
    elif entity == "slot" and status == "AVAILABLE" and booking["cancelled_at"]:
        return "slot_available", booking["cancelled_at"]
    return None, 0.0
