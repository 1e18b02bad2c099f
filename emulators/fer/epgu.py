"""What ЕПГУ knows of a patient: age rules (FER-EPGU-1) and patient_data_rrp; the slot search is in `search`."""

from __future__ import annotations

import datetime as dt
import functools
import random
import uuid
from typing import Any

from emulators.core.datagen import Person, make_enp, make_person, make_snils


def ages_for(tag_age: str) -> tuple[int, int]:
    """Patient ages (years) a slot accepts: ADULT 18+, CHILD 1–17, BABY under 1, ALL any."""
    return {"ADULT": (18, 90), "CHILD": (1, 17), "BABY": (0, 0), "ALL": (0, 90)}.get(tag_age, (0, 90))


def accepts(tag_age: str, age: int) -> bool:
    """FER-EPGU-1 age filter: ≥18 ADULT|ALL, 1–17 CHILD|ALL, <1 BABY|ALL."""
    wanted = "ADULT" if age >= 18 else "CHILD" if age >= 1 else "BABY"
    return tag_age in (wanted, "ALL")


def age_on(birthdate: dt.date, day: dt.date) -> int:
    return day.year - birthdate.year - ((day.month, day.day) < (birthdate.month, birthdate.day))


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
