"""LMIS-4: booking by referral — the referring clinic's referral, the receiving clinic's check, then the booking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.lmis import catalogue as texts
from tests.lmis_support import CLINIC_A, CLINIC_B, Stand, first_patient, running_stand

UNKNOWN = "00000000-0000-4000-8000-00000000abcd"


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    yield from running_stand(tmp_path)


def two_clinics(stand: Stand) -> tuple[Any, Any, str, str]:
    """Clinic A refers its patient to clinic B (which has never seen the patient); B's schedule is cached."""
    referring = stand.local(CLINIC_A)
    receiving = stand.local(CLINIC_B, "ГБУЗ «Областная больница»", seed=12, patients_seed=99)
    stand.pull()
    patient_id, _ = first_patient(referring)
    referral_id = referring.mis.add_referral(patient_id, CLINIC_B, speciality_code="49")
    return referring, receiving, patient_id, referral_id


def by_referral(stand: Stand, **spec: Any) -> dict[str, Any]:
    return stand.flow("book-by-referral", **spec)


@pytest.mark.req("LMIS-4", "LMIS-1")
def test_a_booking_by_referral_goes_through_both_clinics(stand: Stand) -> None:
    _, receiving, patient_id, referral_id = two_clinics(stand)
    result = by_referral(stand, referral_id=referral_id, referring_clinic_id=CLINIC_A, patient_id=patient_id)
    assert result["outcome"] == "success" and result["blocked"] is False, result
    assert [s["step"] for s in result["steps"]] == ["patient", "token", "referral", "existing", "slot", "appointment"]
    assert result["referral"]["receiving_clinic_id"] == CLINIC_B and result["clinic_id"] == CLINIC_B
    assert result["appointment"]["referral_id"] == referral_id
    doctor = next(r for r in receiving.mis.resources if r["resource_id"] == result["appointment"]["resource_id"])
    assert doctor["speciality_code"] == "49"  # the slot of the referral's speciality
    # the receiving clinic made a card for the patient and uploaded it: it is now in the patient's list (LMIS-1)
    clinics = stand.api("GET", f"/patients/{patient_id}/clinics").json()["result"]["clinics"]
    assert [c["clinic_id"] for c in clinics] == [CLINIC_A, CLINIC_B]
    operations = [e["operation"] for e in stand.journal("lmis.*") if e["operation"] != "lmis.schedule"]
    assert operations[-3:] == ["lmis.referral.get", "lmis.referral.appointments", "lmis.appointment.create"]


@pytest.mark.req("LMIS-4")
def test_no_patient_in_the_index_blocks_the_flow_before_any_call(stand: Stand) -> None:
    two_clinics(stand)
    result = by_referral(stand, referral_id=UNKNOWN, referring_clinic_id=CLINIC_A, patient={"snils": "11223344595"})
    assert result["outcome"] == "no_patient" and result["blocked"] is True
    assert result["rule"] == texts.RULE_BLOCKED and result["user_message"] == texts.USER_NO_PATIENT
    assert [e["operation"] for e in stand.journal("lmis.referral.*")] == []


@pytest.mark.req("LMIS-4")
def test_no_referral_from_the_referring_clinic_blocks_the_flow(stand: Stand) -> None:
    referring, _, patient_id, referral_id = two_clinics(stand)
    missing = by_referral(stand, referral_id=UNKNOWN, referring_clinic_id=CLINIC_A, patient_id=patient_id)
    assert missing["outcome"] == "no_referral" and missing["blocked"] is True
    assert missing["rule"] == texts.RULE_BLOCKED and missing["user_message"] == texts.USER_NO_REFERRAL
    assert missing["steps"][-1]["outcome"] == "business_error" and missing["steps"][-1]["code"] == "REFERRAL_NOT_FOUND"
    referring.stop()  # «информация о направлении не будет получена»: the referring clinic does not answer
    down = by_referral(stand, referral_id=referral_id, referring_clinic_id=CLINIC_A, patient_id=patient_id)
    assert down["outcome"] == "no_referral" and down["steps"][-1]["outcome"] == "transport_error"
    assert stand.journal("lmis.referral.appointments") == [] and stand.journal("lmis.appointment.create") == []


@pytest.mark.req("LMIS-4")
def test_an_appointment_already_on_the_referral_blocks_with_the_offer_to_cancel_it(stand: Stand) -> None:
    _, receiving, patient_id, referral_id = two_clinics(stand)
    spec = {"referral_id": referral_id, "referring_clinic_id": CLINIC_A, "patient_id": patient_id}
    first = by_referral(stand, **spec)
    again = by_referral(stand, **spec)
    assert again["outcome"] == "appointment_exists" and again["blocked"] is True and again["rule"] == texts.RULE_EXISTS
    existing = again["appointment"]
    assert existing["appointment_id"] == first["appointment"]["appointment_id"]
    assert again["user_message"] == texts.USER_EXISTS.format(ticket=existing["ticket_number"])
    offer = again["offer"]
    assert offer["action"] == "cancel" and offer["path"] == "/__admin/lmis/cancel"
    cancelled = stand.admin(offer["method"], offer["path"][len("/__admin"):], json=offer["body"]).json()
    assert cancelled["outcome"] == "success"
    third = by_referral(stand, **spec)  # the cancelled appointment no longer blocks
    assert third["outcome"] == "success" and third["appointment"]["appointment_id"] != existing["appointment_id"]
    assert len(receiving.mis.on_referral(referral_id)["appointments"]) == 2


@pytest.mark.req("LMIS-4")
def test_a_referral_of_another_patient_is_a_violation_that_blocks(stand: Stand) -> None:
    referring, _, patient_id, _ = two_clinics(stand)
    other_patient = list(referring.mis.master)[1]
    referral_id = referring.mis.add_referral(other_patient, CLINIC_B)
    referring.mis.referrals[referral_id]["patient_id"] = patient_id  # answered for the asking patient…
    referring.mis.referrals[referral_id]["referral_id"] = UNKNOWN  # …but names another referral
    result = by_referral(stand, referral_id=referral_id, referring_clinic_id=CLINIC_A, patient_id=patient_id)
    assert result["outcome"] == "no_referral" and result["violations"][0]["requirement"] == "LMIS-4"
    assert stand.journal("lmis.referral.get")[-1]["outcome"] == "violation"


@pytest.mark.req("LMIS-4")
def test_a_receiving_clinic_that_cannot_be_asked_blocks_the_booking(stand: Stand) -> None:
    _, receiving, patient_id, referral_id = two_clinics(stand)
    receiving.mis.misbehave.add("unavailable")
    result = by_referral(stand, referral_id=referral_id, referring_clinic_id=CLINIC_A, patient_id=patient_id)
    assert result["outcome"] == "transport_error" and result["blocked"] is True
    assert stand.journal("lmis.appointment.create") == []
