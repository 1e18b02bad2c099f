"""LMIS-1, LMIS-3: booking and cancel through the central API into the reference local MIS, each answer classified."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from emulators.core.contract import Contract, contracts_dir
from emulators.core.formats import is_guid
from emulators.lmis import catalogue as texts
from tests.lmis_support import CLINIC_A, CLINIC_B, Stand, first_patient, running_stand, start_stand

LOCAL = Contract(contracts_dir() / "lmis/local-mis.openapi.yaml")
ADMIN = Contract(contracts_dir() / "lmis/admin.openapi.yaml")


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    yield from running_stand(tmp_path)


def ready(stand: Stand, clinic_id: str = CLINIC_A, **options: object) -> tuple[object, str]:
    local = stand.local(clinic_id, **options)  # type: ignore[arg-type]
    assert stand.pull(clinic_id)[clinic_id]["last_outcome"] == "ok"
    return local, first_patient(local)[0]


@pytest.mark.req("LMIS-3", "X-1", "X-2")
def test_a_booking_carries_the_patient_token_and_returns_appointment_slot_and_ticket(stand: Stand) -> None:
    local, patient_id = ready(stand)
    result = stand.flow("book", patient_id=patient_id, clinic_id=CLINIC_A)
    jsonschema.validate(result, ADMIN.schema("FlowResult"))
    assert result["outcome"] == "success" and result["blocked"] is False and not result["violations"]
    appointment = result["appointment"]
    jsonschema.validate(appointment, LOCAL.schema("Appointment"))
    assert is_guid(appointment["appointment_id"]) and appointment["slot_id"] == result["slot_id"]
    assert appointment["ticket_number"] == "А-001"
    assert result["user_message"] == "Вы записаны на прием, номер талона А-001"
    # the local MIS knew the patient only from the token's `sub`
    assert local.mis.appointments[appointment["appointment_id"]]["patient_id"] == patient_id  # type: ignore[attr-defined]
    event = stand.journal("lmis.appointment.create")[-1]
    assert event["direction"] == "outbound" and event["outcome"] == "success"
    cached = stand.api("GET", f"/clinics/{CLINIC_A}/schedule").json()["result"]["resources"]
    busy = [s for r in cached for s in r["slots"] if s["slot_id"] == result["slot_id"]]
    assert busy[0]["status"] == "busy"  # the cache follows the booking until the next pull
    state = stand.admin("GET", "/state").json()
    assert state["appointments"][0]["ticket_number"] == "А-001" and state["appointments"][0]["status"] == "booked"


@pytest.mark.req("LMIS-3")
def test_a_taken_slot_is_a_business_error_and_cancel_frees_it(stand: Stand) -> None:
    local, patient_id = ready(stand)
    first = stand.flow("book", patient_id=patient_id, clinic_id=CLINIC_A)
    again = stand.flow("book", patient_id=patient_id, clinic_id=CLINIC_A, slot_id=first["slot_id"])
    assert again["outcome"] == "business_error" and again["message"].startswith("SLOT_TAKEN")
    assert again["user_message"] == texts.LOCAL_ERRORS["SLOT_TAKEN"][1] and again["blocked"] is False
    appointment_id = first["appointment"]["appointment_id"]
    cancelled = stand.flow("cancel", appointment_id=appointment_id)
    assert cancelled["outcome"] == "success" and cancelled["user_message"] == texts.USER_CANCELLED
    assert local.mis.slots[first["slot_id"]]["status"] == "free"  # type: ignore[attr-defined]
    twice = stand.flow("cancel", appointment_id=appointment_id)
    assert twice["outcome"] == "business_error" and twice["message"].startswith("ALREADY_CANCELLED")
    rebooked = stand.flow("book", patient_id=patient_id, clinic_id=CLINIC_A, slot_id=first["slot_id"])
    assert rebooked["outcome"] == "success"
    unknown = stand.flow("cancel", appointment_id="00000000-0000-4000-8000-000000000000", clinic_id=CLINIC_A,
                         patient_id=patient_id)  # fmt: skip
    assert unknown["outcome"] == "business_error" and unknown["message"].startswith("APPOINTMENT_NOT_FOUND")
    assert stand.flow("cancel", appointment_id="00000000-0000-4000-8000-000000000000")["outcome"] == "rejected"


@pytest.mark.req("LMIS-3")
def test_an_answer_with_a_slot_guid_not_in_the_schedule_is_a_violation(stand: Stand) -> None:
    local, patient_id = ready(stand)
    local.mis.misbehave.add("foreign_slot")  # type: ignore[attr-defined]
    result = stand.flow("book", patient_id=patient_id, clinic_id=CLINIC_A)
    assert result["outcome"] == "violation" and result["violations"][0]["requirement"] == "LMIS-3"
    assert "a slot GUID not in its schedule" in result["message"]
    assert result["appointment"]["slot_id"] != result["slot_id"]
    assert stand.journal("lmis.appointment.create")[-1]["outcome"] == "violation"


@pytest.mark.req("LMIS-3")
def test_a_local_mis_that_books_the_same_slot_twice_is_caught(stand: Stand) -> None:
    local, patient_id = ready(stand)
    first = stand.flow("book", patient_id=patient_id, clinic_id=CLINIC_A)
    local.mis.misbehave.add("double_booking")  # type: ignore[attr-defined]
    second = stand.flow("book", patient_id=patient_id, clinic_id=CLINIC_A, slot_id=first["slot_id"])
    assert second["outcome"] == "violation"
    assert f"slot {first['slot_id']} was booked twice" in second["message"]
    assert first["appointment"]["appointment_id"] in second["violations"][0]["message"]
    assert stand.journal("lmis.appointment.create")[-1]["violations"][0]["requirement"] == "LMIS-3"


@pytest.mark.req("LMIS-3", "X-3")
def test_timeouts_and_transport_errors_are_told_apart(tmp_path: Path) -> None:
    running = start_stand(tmp_path, **{"lmis.call_deadline_seconds": 0.3})
    try:
        local, patient_id = ready(running)
        local.mis.answer_delay_ms = 1000  # type: ignore[attr-defined]
        slow = running.flow("book", patient_id=patient_id, clinic_id=CLINIC_A)
        assert slow["outcome"] == "timeout" and slow["user_message"] == texts.USER_FAILED
        local.mis.answer_delay_ms = 0  # type: ignore[attr-defined]
        local.mis.misbehave.add("unavailable")  # type: ignore[attr-defined]
        failing = running.flow("book", patient_id=patient_id, clinic_id=CLINIC_A)
        assert failing["outcome"] == "transport_error" and "HTTP 503" in failing["message"]
        local.stop()  # type: ignore[attr-defined]
        down = running.flow("book", patient_id=patient_id, clinic_id=CLINIC_A)
        assert down["outcome"] == "transport_error" and "connection" in down["message"]
    finally:
        running.stop()


@pytest.mark.req("LMIS-1", "LMIS-3")
def test_booking_is_blocked_without_the_patient_or_in_a_clinic_that_has_not_uploaded_the_patient(stand: Stand) -> None:
    _, patient_id = ready(stand)
    stand.local(CLINIC_B, "ГБУЗ «Городская поликлиника № 2»", seed=12, patients_seed=99)
    stand.pull(CLINIC_B)
    nobody = stand.flow("book", patient={"snils": "112-233-445 95"}, clinic_id=CLINIC_A)
    assert nobody["outcome"] == "no_patient" and nobody["blocked"] is True
    assert nobody["rule"] == texts.RULE_BLOCKED and nobody["user_message"] == texts.USER_NO_PATIENT
    elsewhere = stand.flow("book", patient_id=patient_id, clinic_id=CLINIC_B)
    assert elsewhere["outcome"] == "clinic_not_listed" and elsewhere["blocked"] is True
    assert elsewhere["rule"] == texts.RULE_UPLOAD and "Городская поликлиника № 2" in elsewhere["user_message"]
    assert stand.flow("book", patient_id=patient_id, clinic_id="nope")["outcome"] == "unknown_clinic"
    no_slot = stand.flow("book", patient_id=patient_id, clinic_id=CLINIC_A, slot_id="0b1c2d3e-0000-4000-8000-0000")
    assert no_slot["outcome"] == "no_slots" and no_slot["user_message"] == texts.USER_NO_SLOTS
    assert stand.journal("lmis.appointment.create") == []  # none of these reached a local MIS


@pytest.mark.req("X-5")
def test_bad_admin_requests_get_a_clear_error(stand: Stand) -> None:
    for path, raw in (("/lmis/book", b"{"), ("/lmis/book", b"[]"), ("/lmis/book", b'{"clinic_id": 5}'),
                      ("/lmis/book", b'{"clinic_id": "x"}'), ("/lmis/book", b'{"clinic_id": "x", "patient": 3}'),
                      ("/lmis/cancel", b"{}"), ("/lmis/book-by-referral", b'{"referral_id": "x"}'),
                      ("/lmis/clinics", b'{"clinic_id": "a b", "name": "n", "base_url": "http://x"}'),
                      ("/lmis/clinics", b'{"clinic_id": "a", "name": "n", "base_url": "ftp://x"}')):  # fmt: skip
        answer = stand.admin("POST", path, data=raw, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400 and answer.json()["error"]["message"], (path, raw, answer.text)
