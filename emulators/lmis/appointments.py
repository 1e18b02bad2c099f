"""Appointments the central API made in local MISes (the integrator's own record), in the core Database."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from emulators.core.storage import Database

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS lmis_appointment (appointment_id TEXT PRIMARY KEY, clinic_id TEXT NOT NULL,"
    " slot_id TEXT NOT NULL, patient_id TEXT NOT NULL, referral_id TEXT, ticket_number TEXT NOT NULL,"
    " status TEXT NOT NULL, booked_at REAL NOT NULL, cancelled_at REAL)",
    "CREATE INDEX IF NOT EXISTS lmis_appointment_slot ON lmis_appointment (clinic_id, slot_id)",
]
COLUMNS = ("appointment_id", "clinic_id", "slot_id", "patient_id", "referral_id", "ticket_number", "status",
           "booked_at", "cancelled_at")  # fmt: skip


class Appointments:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        db.ensure_schema(SCHEMA)

    def add(self, appointment_id: str, clinic_id: str, slot_id: str, patient_id: str, referral_id: str | None,
            ticket_number: str) -> None:  # fmt: skip
        self.db.execute(
            "INSERT INTO lmis_appointment (appointment_id, clinic_id, slot_id, patient_id, referral_id, ticket_number,"
            " status, booked_at) VALUES (?, ?, ?, ?, ?, ?, 'booked', ?) ON CONFLICT(appointment_id) DO UPDATE SET"
            " status = 'booked', cancelled_at = NULL",
            (appointment_id, clinic_id, slot_id, patient_id, referral_id, ticket_number, self.clock()),
        )

    def get(self, appointment_id: str) -> dict[str, Any] | None:
        rows = self.db.query(f"SELECT {', '.join(COLUMNS)} FROM lmis_appointment WHERE appointment_id = ?",
                             (appointment_id,))  # fmt: skip
        return dict(zip(COLUMNS, rows[0], strict=True)) if rows else None

    def active_on_slot(self, clinic_id: str, slot_id: str) -> dict[str, Any] | None:
        rows = self.db.query(
            f"SELECT {', '.join(COLUMNS)} FROM lmis_appointment WHERE clinic_id = ? AND slot_id = ?"
            " AND status = 'booked' ORDER BY booked_at LIMIT 1",
            (clinic_id, slot_id),
        )
        return dict(zip(COLUMNS, rows[0], strict=True)) if rows else None

    def cancelled(self, appointment_id: str) -> None:
        self.db.execute("UPDATE lmis_appointment SET status = 'cancelled', cancelled_at = ? WHERE appointment_id = ?",
                        (self.clock(), appointment_id))  # fmt: skip

    def all(self) -> list[dict[str, Any]]:
        rows = self.db.query(f"SELECT {', '.join(COLUMNS)} FROM lmis_appointment ORDER BY booked_at")
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]

    def clear(self) -> None:
        self.db.execute("DELETE FROM lmis_appointment")
