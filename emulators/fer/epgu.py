"""What ЕПГУ does before a booking: find slots (FER-EPGU-1/2) and describe the patient (patient_data_rrp)."""

from __future__ import annotations

import datetime as dt
import functools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from emulators.core.datagen import Person, make_enp, make_person, make_snils
from emulators.fer.showcase import Showcase

REFERRAL_TAGS = frozenset({"REFERRAL", "ORDINARY", "EPGU", "REGISTRY"})
EPGU_TAGS = frozenset({"EPGU"})


def ages_for(tag_age: str) -> tuple[int, int]:
    """Patient ages (years) a slot accepts: ADULT 18+, CHILD 1–17, BABY under 1, ALL any."""
    return {"ADULT": (18, 90), "CHILD": (1, 17), "BABY": (0, 0), "ALL": (0, 90)}.get(tag_age, (0, 90))


def accepts(tag_age: str, age: int) -> bool:
    """FER-EPGU-1 age filter: ≥18 ADULT|ALL, 1–17 CHILD|ALL, <1 BABY|ALL."""
    wanted = "ADULT" if age >= 18 else "CHILD" if age >= 1 else "BABY"
    return tag_age in (wanted, "ALL")


def age_on(birthdate: dt.date, day: dt.date) -> int:
    return day.year - birthdate.year - ((day.month, day.day) < (birthdate.month, birthdate.day))


@dataclass(frozen=True)
class SlotQuery:
    """EPGU's slot search; every field optional."""

    mo_id: str | None = None
    speciality_id: str | None = None
    service_code: str | None = None
    profile_code: str | None = None
    patient_age: int | None = None
    date_from: dt.date | None = None
    days: int = 14
    tags: frozenset[str] = EPGU_TAGS


def find_slots(showcase: Showcase, query: SlotQuery) -> list[dict[str, Any]]:
    """AVAILABLE slots as ЕПГУ would offer them, earliest first."""
    start = query.date_from.isoformat() if query.date_from else None
    end = (query.date_from + dt.timedelta(days=query.days)).isoformat() if query.date_from else None
    found = []
    for record, _, values in _candidates(showcase, query):
        visit = values[2]
        if record.get("status") != "AVAILABLE" or not _tagged(record.get("tag_type", ""), query.tags):
            continue
        if (start and visit[:10] < start) or (end and visit[:10] > end):
            continue
        if query.patient_age is not None and not accepts(record.get("tag_age", "ALL"), query.patient_age):
            continue
        resource = showcase.get("resource", values[0])
        if resource is None or resource[0].get("enabled") == "NONE" or _unavailable(showcase, values[0], visit):
            continue
        if not _fits_resource(showcase, values[0], resource[0], query):
            continue
        found.append(record)
    return sorted(found, key=lambda r: (r["visit_time"], r["id"]))


def _candidates(showcase: Showcase, query: SlotQuery) -> Iterator[tuple[dict[str, Any], str, tuple[Any, ...]]]:
    table = showcase.tables["slot"]
    keys = table.keys_where("mo_id", query.mo_id) if query.mo_id else table.rows.keys()
    for key in list(keys):
        row = showcase.get("slot", key)
        if row is not None:
            yield row


def _tagged(tag_type: str, wanted: frozenset[str]) -> bool:
    return bool({t.strip() for t in tag_type.split(",")} & wanted)


def _unavailable(showcase: Showcase, resource_id: str, visit: str) -> bool:
    for period, _, _ in showcase.rows_where("unaccessable_period", "resource_id", resource_id):
        if str(period.get("beg_date", ""))[:19] <= visit <= str(period.get("end_date", ""))[:19]:
            return True
    return False


def _fits_resource(showcase: Showcase, resource_id: str, resource: dict[str, Any], query: SlotQuery) -> bool:
    if query.speciality_id and resource.get("speciality_id") != query.speciality_id:
        return False
    if query.profile_code:
        profiles = showcase.rows_where("profilecode_resource", "resource_id", resource_id)
        if not any(p.get("profile_code") == query.profile_code for p, _, _ in profiles):
            return False
    if query.service_code:
        services = showcase.rows_where("service", "resource_id", resource_id)
        if not any(s.get("code") == query.service_code for s, _, _ in services):
            return False
    return True


def group_slots(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slots grouped by day, MO and resource with counts, as the «Выберите дату и врача» screen shows them."""
    groups: dict[tuple[str, str, str], int] = {}
    for slot in slots:
        key = (slot["visit_time"][:10], slot["mo_id"], slot["resource_id"])
        groups[key] = groups.get(key, 0) + 1
    return [{"day": d, "mo_id": m, "resource_id": r, "available": n} for (d, m, r), n in sorted(groups.items())]


def patient_data(given: dict[str, Any] | None, tag_age: str, visit_day: dt.date, rng: random.Random) -> dict[str, Any]:
    """patient_data_rrp for the booking: the given fields, the rest generated (valid СНИЛС and ЕНП).

    The generated age fits the slot's tag_age unless `given` holds "age_fits": false.
    """
    given = dict(given or {})
    fits = given.pop("age_fits", True)
    low, high = ages_for(tag_age)
    if not fits:
        low, high = (0, 17) if tag_age == "ADULT" else (30, 60)
    person = rng.choice(_people())  # Faker per booking costs ~1 ms here: names come from a pool, the rest is fresh
    latest, earliest = _years_before(visit_day, low), _years_before(visit_day, high + 1) + dt.timedelta(days=1)
    birthdate = earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))
    generated = {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "united_guids": [],
        "firstname": person.first_name,
        "lastname": person.last_name,
        "middlename": person.middle_name,
        "snils": make_snils(rng),
        "oms_number": make_enp(rng),
        "birthdate": birthdate.isoformat() + "T00:00:00",
        "gender": person.gender,
        "phone": person.phone,
        "email": person.email,
    }
    return {**generated, **given}


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@functools.cache
def _people() -> list[Person]:
    rng = random.Random(20241)
    return [make_person(rng, today=dt.date(2025, 1, 1)) for _ in range(128)]


def warm_up() -> None:
    """Build the name pool now rather than on the first booking (Faker's start-up takes ~0.1 s)."""
    _people()
