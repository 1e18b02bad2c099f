"""ЕПГУ's patient data: ages that fit the slot's tag_age (or deliberately do not), valid numbers."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from emulators.core.datagen import is_valid_enp, is_valid_snils
from emulators.fer.epgu import accepts, age_on, patient_data


@pytest.mark.req("FER-EPGU-1", "X-4")
@pytest.mark.parametrize("day", [dt.date(2026, 1, 10), dt.date(2024, 2, 29), dt.date(2025, 3, 1)])
@pytest.mark.parametrize("tag_age", ["ADULT", "CHILD", "BABY"])
def test_generated_ages_fit_or_deliberately_miss_the_slot(day: dt.date, tag_age: str) -> None:
    rng = random.Random(5)
    for fits in (True, False):
        for _ in range(400):
            patient = patient_data(None if fits else {"age_fits": False}, tag_age, day, rng)
            age = age_on(dt.date.fromisoformat(patient["birthdate"][:10]), day)
            assert accepts(tag_age, age) is fits, (tag_age, fits, age)


@pytest.mark.req("FER-BK-1", "X-4")
def test_patient_data_rrp_has_valid_numbers_and_keeps_given_fields() -> None:
    patient = patient_data({"lastname": "Иванова", "gender": "2"}, "ALL", dt.date(2026, 1, 10), random.Random(1))
    assert is_valid_snils(patient["snils"]) and is_valid_enp(patient["oms_number"])
    assert patient["lastname"] == "Иванова" and patient["gender"] == "2" and patient["united_guids"] == []
    assert set(patient) == {"id", "united_guids", "firstname", "lastname", "middlename", "snils", "oms_number",
                            "birthdate", "gender", "phone", "email"}  # fmt: skip
