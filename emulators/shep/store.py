"""Medical exemptions: held in memory with indexes for search, every change committed to the core Database first."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from random import Random
from typing import Any

from emulators.core.datagen import is_valid_iin, make_kz_person
from emulators.core.storage import Database
from emulators.shep import catalogue as texts
from emulators.shep.settings import SEED_EXAMPLE_IIN, SEED_EXEMPTION_NUMBER

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS shep_exemption (
        number TEXT PRIMARY KEY, iin TEXT, passport_number TEXT, citizenship_code TEXT, status TEXT NOT NULL,
        procedure_code TEXT NOT NULL, last_name TEXT NOT NULL, first_name TEXT NOT NULL, middle_name TEXT NOT NULL,
        birth_date TEXT NOT NULL, issued_on TEXT NOT NULL, end_date TEXT, revocation_reason TEXT,
        organisation TEXT NOT NULL, doctor TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS shep_sender (sender_id TEXT PRIMARY KEY, password TEXT NOT NULL)",
]
FIELDS = (
    "number",
    "iin",
    "passport_number",
    "citizenship_code",
    "status",
    "procedure_code",
    "last_name",
    "first_name",
    "middle_name",
    "birth_date",
    "issued_on",
    "end_date",
    "revocation_reason",
    "organisation",
    "doctor",
)


class ExemptionError(ValueError):
    """An exemption the admin API refuses (the reason is the message)."""


@dataclass(frozen=True)
class Exemption:
    number: str
    iin: str | None
    passport_number: str | None
    citizenship_code: str | None
    status: str
    procedure_code: str
    last_name: str
    first_name: str
    middle_name: str
    birth_date: str  # ISO dates
    issued_on: str
    end_date: str | None  # the temporary contraindication's end (SHEP-4: given for NOT_UP_TO_DATE)
    revocation_reason: str | None  # SHEP-4: given for REVOKED
    organisation: str
    doctor: str

    @property
    def procedure(self) -> texts.Procedure:
        return texts.PROCEDURES[self.procedure_code]

    @property
    def patient(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in FIELDS)


def generate(rng: Random, number: str, today: dt.date, **given: Any) -> Exemption:
    """An exemption with every field not `given` drawn from `rng` (Kazakh names, valid ИИН, X-4)."""
    person = make_kz_person(rng, today, (1, 70))
    foreign = "passport_number" in given or ("iin" not in given and rng.random() < 0.2)
    status = given.get("status") or rng.choice(texts.STATUSES)
    issued = today - dt.timedelta(days=rng.randrange(10, 700))
    end = issued + dt.timedelta(days=rng.randrange(30, 365))
    fields: dict[str, Any] = {
        "number": number,
        "iin": None if foreign else person.iin,
        "passport_number": f"N{rng.randrange(10**7, 10**8)}" if foreign else None,
        "citizenship_code": rng.choice([c for c in texts.CITIZENSHIPS if c != "398"]) if foreign else "398",
        "status": status,
        "procedure_code": rng.choice(list(texts.PROCEDURES)),
        "last_name": person.last_name,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "birth_date": person.birthdate.isoformat(),
        "issued_on": issued.isoformat(),
        "end_date": None,
        "revocation_reason": None,
        "organisation": rng.choice(texts.ORGANISATIONS),
        "doctor": f"{make_kz_person(rng, today).last_name} {make_kz_person(rng, today).first_name[0]}.",
    }
    fields.update(given)
    if fields["status"] == texts.NOT_UP_TO_DATE and not fields["end_date"]:
        fields["end_date"] = min(end, today - dt.timedelta(days=1)).isoformat()
    if fields["status"] == texts.REVOKED and not fields["revocation_reason"]:
        fields["revocation_reason"] = rng.choice(texts.REVOCATION_REASONS)
    return checked(Exemption(**fields))


def checked(exemption: Exemption) -> Exemption:
    """The exemption if it is consistent; ExemptionError naming the first problem otherwise."""
    if not exemption.number.strip():
        raise ExemptionError("number must not be empty")
    if exemption.status not in texts.STATUSES:
        raise ExemptionError(f"status must be one of {', '.join(texts.STATUSES)}")
    if exemption.procedure_code not in texts.PROCEDURES:
        raise ExemptionError(f"procedure_code must be one of {', '.join(texts.PROCEDURES)}")
    if exemption.iin is not None and not is_valid_iin(exemption.iin):
        raise ExemptionError(f"iin {exemption.iin!r} is not a valid ИИН (12 digits, checksum)")
    if exemption.iin is None and not (exemption.passport_number and exemption.citizenship_code):
        raise ExemptionError("give iin, or passport_number and citizenship_code")
    for name in ("birth_date", "issued_on", "end_date"):
        value = getattr(exemption, name)
        if value is not None:
            try:
                dt.date.fromisoformat(value)
            except (TypeError, ValueError) as exc:
                raise ExemptionError(f"{name} must be a date YYYY-MM-DD, got {value!r}") from exc
    return exemption


def seed_example(today: dt.date) -> Exemption:
    """The exemption the seed's example finds: 01085, COVID-19 immunisation (code 100), UP_TO_DATE."""
    return generate(
        Random(0),
        SEED_EXEMPTION_NUMBER,
        today,
        status=texts.UP_TO_DATE,
        procedure_code="100",
        iin=SEED_EXAMPLE_IIN,
        birth_date="1985-03-15",
    )


class ExemptionStore:
    """Exemptions by number with indexes by ИИН and (passport, citizenship); writes commit before they show."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema(SCHEMA)
        self._lock = threading.Lock()
        self.by_number: dict[str, Exemption] = {}
        self._by_iin: dict[str, set[str]] = {}
        self._by_passport: dict[tuple[str, str], set[str]] = {}
        for row in db.query(f"SELECT {', '.join(FIELDS)} FROM shep_exemption"):
            self._index(Exemption(*row))

    def __len__(self) -> int:
        return len(self.by_number)

    def put(self, exemptions: Iterable[Exemption]) -> None:
        """Store (insert or replace) exemptions; committed when this returns."""
        batch = list(exemptions)
        columns = ", ".join(FIELDS)
        updates = ", ".join(f"{name} = excluded.{name}" for name in FIELDS[1:])
        sql = (
            f"INSERT INTO shep_exemption ({columns}) VALUES ({', '.join('?' * len(FIELDS))}) "
            f"ON CONFLICT(number) DO UPDATE SET {updates}"
        )
        with self._lock, self.db.transaction() as conn:
            for exemption in batch:
                conn.execute(sql, exemption.row())
        with self._lock:
            for exemption in batch:
                self._unindex(exemption.number)
                self._index(exemption)

    def clear(self) -> None:
        with self._lock:
            self.db.execute("DELETE FROM shep_exemption")
            self.by_number.clear()
            self._by_iin.clear()
            self._by_passport.clear()

    def find(self, number: str | None, iin: str | None, passport: tuple[str, str] | None) -> list[Exemption]:
        """Exemptions matching every given criterion, ordered by number."""
        candidates: set[str] | None = None
        for keys in (
            {number} if number is not None else None,
            self._by_iin.get(iin, set()) if iin is not None else None,
            self._by_passport.get(passport, set()) if passport is not None else None,
        ):
            if keys is not None:
                candidates = set(keys) if candidates is None else candidates & keys
        found = [self.by_number[n] for n in sorted(candidates or ()) if n in self.by_number]
        return found

    def _index(self, exemption: Exemption) -> None:
        self.by_number[exemption.number] = exemption
        if exemption.iin:
            self._by_iin.setdefault(exemption.iin, set()).add(exemption.number)
        if exemption.passport_number and exemption.citizenship_code:
            key = (exemption.passport_number, exemption.citizenship_code)
            self._by_passport.setdefault(key, set()).add(exemption.number)

    def _unindex(self, number: str) -> None:
        old = self.by_number.pop(number, None)
        if old is None:
            return
        if old.iin:
            self._by_iin.get(old.iin, set()).discard(number)
        if old.passport_number and old.citizenship_code:
            self._by_passport.get((old.passport_number, old.citizenship_code), set()).discard(number)
