"""The master patient index (МИП) and the clinic registry (справочник ЛПУ), in the core Database.

A patient is one master record (`patient_id`, a GUID) and one card (МКАБ) per clinic that uploaded it.
Cards from different clinics are the same patient when their СНИЛС matches, else their полис ОМС (ЕНП):
the seed asks for «наличии его карт в учреждениях», so matching is by the identifiers every card carries.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulators.core.storage import Database

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS lmis_clinic (clinic_id TEXT PRIMARY KEY, name TEXT NOT NULL, base_url TEXT NOT NULL,"
    " api_key TEXT NOT NULL UNIQUE, registered_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS lmis_patient (patient_id TEXT PRIMARY KEY, snils TEXT, oms_number TEXT,"
    " last_name TEXT NOT NULL, first_name TEXT NOT NULL, middle_name TEXT, birth_date TEXT NOT NULL,"
    " gender TEXT NOT NULL, updated_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS lmis_patient_snils ON lmis_patient (snils)",
    "CREATE INDEX IF NOT EXISTS lmis_patient_oms ON lmis_patient (oms_number)",
    "CREATE TABLE IF NOT EXISTS lmis_card (clinic_id TEXT NOT NULL, mkab_id TEXT NOT NULL, patient_id TEXT NOT NULL,"
    " uploaded_at REAL NOT NULL, PRIMARY KEY (clinic_id, mkab_id))",
    "CREATE INDEX IF NOT EXISTS lmis_card_patient ON lmis_card (patient_id)",
]
PATIENT_COLUMNS = ("patient_id", "snils", "oms_number", "last_name", "first_name", "middle_name", "birth_date",
                   "gender")  # fmt: skip


@dataclass(frozen=True)
class Clinic:
    clinic_id: str
    name: str
    base_url: str
    api_key: str
    registered_at: float

    def public(self) -> dict[str, Any]:
        return {"clinic_id": self.clinic_id, "name": self.name}


class Registry:
    """Clinics with their local MIS address and the key their local MIS authenticates with."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        db.ensure_schema(SCHEMA)

    def register(self, clinic_id: str, name: str, base_url: str) -> Clinic:
        existing = self.get(clinic_id)
        key = existing.api_key if existing else secrets.token_hex(16)
        self.db.execute(
            "INSERT INTO lmis_clinic (clinic_id, name, base_url, api_key, registered_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(clinic_id) DO UPDATE SET name = excluded.name, base_url = excluded.base_url",
            (clinic_id, name, base_url.rstrip("/"), key, self.clock()),
        )
        found = self.get(clinic_id)
        assert found is not None
        return found

    def get(self, clinic_id: str) -> Clinic | None:
        rows = self.db.query(
            "SELECT clinic_id, name, base_url, api_key, registered_at FROM lmis_clinic WHERE clinic_id = ?",
            (clinic_id,),
        )
        return Clinic(*rows[0]) if rows else None

    def by_key(self, api_key: str) -> Clinic | None:
        rows = self.db.query(
            "SELECT clinic_id, name, base_url, api_key, registered_at FROM lmis_clinic WHERE api_key = ?", (api_key,)
        )
        return Clinic(*rows[0]) if rows else None

    def all(self) -> list[Clinic]:
        rows = self.db.query("SELECT clinic_id, name, base_url, api_key, registered_at FROM lmis_clinic ORDER BY 1")
        return [Clinic(*row) for row in rows]

    def remove(self, clinic_id: str) -> int:
        return self.db.execute("DELETE FROM lmis_clinic WHERE clinic_id = ?", (clinic_id,))


class PatientIndex:
    """МИП: master patients and their cards per clinic (LMIS-1)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        db.ensure_schema(SCHEMA)

    def upload(self, clinic_id: str, cards: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Store valid cards of one clinic in one transaction; returns (mkab_id, patient_id) per card."""
        linked = []
        now = self.clock()
        with self.db.transaction() as conn:
            for card in cards:
                patient_id = self._match(conn, card) or str(uuid.uuid4())
                values = [patient_id, *(card.get(name) for name in PATIENT_COLUMNS[1:]), now]
                conn.execute(
                    "INSERT INTO lmis_patient (patient_id, snils, oms_number, last_name, first_name, middle_name,"
                    " birth_date, gender, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(patient_id) DO"
                    " UPDATE SET snils = COALESCE(excluded.snils, lmis_patient.snils), oms_number ="
                    " COALESCE(excluded.oms_number, lmis_patient.oms_number), last_name = excluded.last_name,"
                    " first_name = excluded.first_name, middle_name = excluded.middle_name,"
                    " birth_date = excluded.birth_date, gender = excluded.gender, updated_at = excluded.updated_at",
                    values,
                )
                conn.execute(
                    "INSERT INTO lmis_card (clinic_id, mkab_id, patient_id, uploaded_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(clinic_id, mkab_id) DO UPDATE SET patient_id = excluded.patient_id,"
                    " uploaded_at = excluded.uploaded_at",
                    (clinic_id, card["mkab_id"], patient_id, now),
                )
                linked.append((str(card["mkab_id"]), patient_id))
        return linked

    @staticmethod
    def _match(conn: Any, card: dict[str, Any]) -> str | None:
        for column in ("snils", "oms_number"):
            value = card.get(column)
            if value:
                row = conn.execute(f"SELECT patient_id FROM lmis_patient WHERE {column} = ?", (value,)).fetchone()
                if row:
                    return str(row[0])
        return None

    def get(self, patient_id: str) -> dict[str, Any] | None:
        rows = self.db.query(f"SELECT {', '.join(PATIENT_COLUMNS)} FROM lmis_patient WHERE patient_id = ?",
                             (patient_id,))  # fmt: skip
        return dict(zip(PATIENT_COLUMNS, rows[0], strict=True)) if rows else None

    def find(self, snils: str = "", oms_number: str = "", last_name: str = "", first_name: str = "",
             birth_date: str = "") -> list[dict[str, Any]]:  # fmt: skip
        """Patients by СНИЛС, else by полис, else by full name and birth date (case-insensitive names)."""
        columns = ", ".join(PATIENT_COLUMNS)
        if snils:
            rows = self.db.query(f"SELECT {columns} FROM lmis_patient WHERE snils = ?", (snils,))
        elif oms_number:
            rows = self.db.query(f"SELECT {columns} FROM lmis_patient WHERE oms_number = ?", (oms_number,))
        else:  # SQLite's lower() knows only ASCII: Cyrillic names are compared here, case-folded
            rows = self.db.query(f"SELECT {columns} FROM lmis_patient WHERE birth_date = ? ORDER BY patient_id",
                                 (birth_date,))  # fmt: skip
            wanted = (last_name.casefold(), first_name.casefold())
            rows = [row for row in rows if (str(row[3]).casefold(), str(row[4]).casefold()) == wanted]
        return [dict(zip(PATIENT_COLUMNS, row, strict=True)) for row in rows]

    def clinics_of(self, patient_id: str) -> list[dict[str, Any]]:
        """LMIS-1: only clinics whose local MIS uploaded a card of this patient (and are still registered)."""
        rows = self.db.query(
            "SELECT c.clinic_id, k.name, c.mkab_id, c.uploaded_at FROM lmis_card c JOIN lmis_clinic k"
            " ON k.clinic_id = c.clinic_id WHERE c.patient_id = ? ORDER BY c.clinic_id",
            (patient_id,),
        )
        return [{"clinic_id": c, "name": n, "mkab_id": m, "uploaded_at": _stamp(at)} for c, n, m, at in rows]

    def counts(self) -> dict[str, int]:
        patients = self.db.query("SELECT count(*) FROM lmis_patient")[0][0]
        cards = self.db.query("SELECT count(*) FROM lmis_card")[0][0]
        return {"patients": int(patients), "cards": int(cards)}

    def clear(self) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM lmis_card")
            conn.execute("DELETE FROM lmis_patient")


def _stamp(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
