"""A realistic local MIS's data, reproducible from a seed (X-4): doctors, their slots and patient cards (МКАБ).

Used by the reference local MIS (`medstand sample-mis lmis-local`) and the tests. Patients come from their own
seed so that two clinics can share patients, as a region's clinics do.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from emulators.core.datagen import make_guid, make_person

# (код специальности, name) — a few common ones; the codes follow НСИ 1.2.643.5.1.13.13.11.1066 in spirit
SPECIALITIES = (("109", "врач-терапевт участковый"), ("49", "врач-невролог"), ("29", "врач-кардиолог"),
                ("81", "врач-офтальмолог"), ("102", "врач-хирург"))  # fmt: skip
DAY_STARTS = ("09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "14:00", "14:30")


@dataclass
class ClinicData:
    resources: list[dict[str, Any]] = field(default_factory=list)
    slots: list[dict[str, Any]] = field(default_factory=list)
    patients: list[dict[str, Any]] = field(default_factory=list)


def generate_clinic(seed: int, start: dt.date, days: int = 7, doctors: int = 3, patients: int = 10,
                    patients_seed: int | None = None) -> ClinicData:  # fmt: skip
    """Doctors with slots every half hour on `days` days from `start`, and patient cards."""
    rng = random.Random(seed)
    data = ClinicData()
    for number in range(doctors):
        code, speciality = SPECIALITIES[number % len(SPECIALITIES)]
        doctor = make_person(rng, age_range=(28, 65), today=start)
        resource_id = make_guid(rng)
        data.resources.append({
            "resource_id": resource_id, "name": f"{doctor.last_name} {doctor.first_name} {doctor.middle_name}",
            "speciality_code": code, "speciality": speciality, "snils": doctor.snils, "room": str(100 + number),
        })  # fmt: skip
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            for begins in DAY_STARTS:
                data.slots.append({"slot_id": make_guid(rng), "resource_id": resource_id,
                                   "start": f"{day.isoformat()}T{begins}:00", "duration": 30, "status": "free"})
    people = random.Random(seed if patients_seed is None else patients_seed)
    for number in range(patients):
        person = make_person(people, age_range=(1, 90), today=start)
        data.patients.append({
            "mkab_id": f"{seed % 1000:03d}-{number + 1:06d}", "last_name": person.last_name,
            "first_name": person.first_name, "middle_name": person.middle_name,
            "birth_date": person.birthdate.isoformat(), "gender": person.gender, "snils": person.snils,
            "oms_number": person.enp, "phone": person.phone,
        })  # fmt: skip
    return data
