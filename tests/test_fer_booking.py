"""FER-BK-*, FER-CN-*, FER-EPGU-*: the gateway books and cancels in a (scripted) MIS and classifies the answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest

from emulators.core.contract import Contract, contracts_dir
from emulators.core.datagen import is_valid_enp, is_valid_snils
from tests import fer_data as data
from tests.conftest import Fer
from tests.mis_stub import MisStub, mis_stub

MIS = Contract(contracts_dir() / "fer/mis-booking.openapi.yaml")
DAY = (dt.date.today() + dt.timedelta(days=2)).isoformat()


def region(fer: Fer) -> dict[str, Any]:
    mo = data.mo(branch_oid="1.2.643.5.1.13.13.12.2.86.8902.0.5")
    doctor = data.specialist(mo["id"], speciality_id="27")
    adult = data.slot(mo["id"], doctor["id"], f"{DAY}T09:00:00", tag_age="ADULT")
    child = data.slot(mo["id"], doctor["id"], f"{DAY}T10:00:00", tag_age="CHILD", tag_type="REFERRAL")
    for entity, record in (("mo", mo), ("resource", doctor), ("slot", adult), ("slot", child)):
        assert fer.post(entity, [record]).status_code == 200
    fer.post("profilecode_resource", [data.profile(doctor["id"], profile_code="97")]).raise_for_status()
    fer.post("service", [data.service(doctor["id"], code="A25.30.001")]).raise_for_status()
    return {"mo": mo, "doctor": doctor, "adult": adult, "child": child}


def booked(mis: MisStub, slot_id: str, ext_id: str = "00000000-0000-0001-0000-000001017307", code: int = 0) -> None:
    """Script the seed's example answer (Пример ответа) for this slot."""
    answer = {"book_ext_id": ext_id, "slot_id": slot_id, "visit_time": f"{DAY}T09:00:00+05:00", "duration": "40",
              "service_id": None, "organization_id": None, "area_id": None, "queue_number": None,
              "status": {"status_code": code, "status_message": None}}  # fmt: skip
    mis.answer("POST /booking/book", body=answer)


def book(fer: Fer, **spec: Any) -> dict[str, Any]:
    answer = fer.admin("POST", "/fer/epgu/book", json=spec)
    assert answer.status_code == 200, answer.text
    return answer.json()


def registered(fer: Fer, mis: MisStub) -> None:
    fer.http.post(f"{fer.url}/api/callback", json={"address": mis.url}).raise_for_status()


@pytest.mark.req("FER-BK-1", "FER-BK-5", "FER-EPGU-1", "X-4")
def test_successful_booking_changes_the_showcase_as_the_gateway_does(fer: Fer) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"])
        result = book(fer)
        sent = mis.received[-1][2]
    assert result["outcome"] == "success" and result["book_ext_id"] == "00000000-0000-0001-0000-000001017307"
    assert result["slot_id"] == places["adult"]["id"] and result["latency_ms"] < 10_000
    jsonschema.validate(sent, MIS.schema("BookRequest"))
    assert sent["booking_type"] == "APPOINTMENT" and sent["preliminary_reservation"] is False
    rrp = sent["patient_data_rrp"]
    assert is_valid_snils(rrp["snils"]) and is_valid_enp(rrp["oms_number"]) and rrp["gender"] in {"1", "2"}
    born = dt.date.fromisoformat(rrp["birthdate"][:10])
    assert (dt.date.fromisoformat(DAY) - born).days >= 18 * 365  # fits the ADULT slot
    slot = fer.get("/api/slot", id=places["adult"]["id"]).json()["result"]
    book_record = fer.get("/api/book", id=result["book_ext_id"]).json()["result"]
    assert slot["status"] == "RECORDED"
    assert (
        book_record["status_code"] == 5000
        and book_record["tag_source"] == "EPGU"
        and book_record["type"] == "APPOINTMENT"
    )
    assert book_record["patient_id"] == sent["patient_id"] and book_record["referral_id"] is None
    assert fer.admin("GET", "/fer/associations").json()["associations_slots"][0]["book_ext_id"] == result["book_ext_id"]
    event = fer.admin("GET", "/journal", params={"operation": "mis.booking.book"}).json()["events"][0]
    assert event["direction"] == "outbound" and event["outcome"] == "success" and event["latency_ms"] > 0


@pytest.mark.req("FER-BK-4")
@pytest.mark.parametrize("code", [11, 12, 13, 14, 15, 17, 18])
def test_business_errors_carry_the_seed_user_text_and_change_nothing(fer: Fer, code: int) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"], code=code)
        result = book(fer, slot_id=places["adult"]["id"])
    assert result["outcome"] == "business_error" and result["status_code"] == code
    from emulators.fer.catalogue import BOOK_CODES

    assert result["user_message"] == BOOK_CODES[code][1] and result["description"] == BOOK_CODES[code][0]
    assert result["message"] == f"the MIS refused with status_code {code}"  # admin surface: English
    assert fer.get("/api/slot", id=places["adult"]["id"]).json()["result"]["status"] == "AVAILABLE"


@pytest.mark.req("FER-BK-4", "FER-BK-3")
@pytest.mark.parametrize(
    ("answer", "requirement"),
    [({"status": {"status_code": 0}}, "FER-BK-3"), ({"book_ext_id": "x"}, "FER-BK-3"), (None, "FER-BK-4")],
    ids=["success-without-book-ext-id", "no-status", "code-99"],
)
def test_structural_violations(fer: Fer, answer: dict | None, requirement: str) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"], code=99)
        if answer is not None:
            mis.answer("POST /booking/book", body=answer)
        result = book(fer, slot_id=places["adult"]["id"])
    assert result["outcome"] == "violation"
    assert {v["requirement"] for v in result["violations"]} == {requirement}
    if answer == {"status": {"status_code": 0}}:
        assert "book_ext_id" in result["message"]
    assert fer.get("/api/slot", id=places["adult"]["id"]).json()["result"]["status"] == "AVAILABLE"


@pytest.mark.req("FER-BK-2")
@pytest.mark.parametrize(("status", "raw"), [(500, None), (200, b"<html>oops</html>"), (200, b"[]")])
def test_http_errors_and_non_json_answers(fer: Fer, status: int, raw: bytes | None) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        mis.answer("POST /booking/book", status=status, raw=raw or b"{}")
        result = book(fer, slot_id=places["adult"]["id"])
    assert result["outcome"] == ("transport_error" if status == 500 else "violation")
    assert result["http_status"] == status


@pytest.mark.req("FER-BK-2")
def test_a_late_answer_and_no_answer_are_timeouts(fer_factory) -> None:
    fer = fer_factory(**{"fer.booking_deadline_seconds": 0.6, "fer.booking_late_grace_seconds": 1.0})
    fer.login()
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"])
        mis.scripts["POST /booking/book"].delay = 0.9
        late = book(fer, slot_id=places["adult"]["id"])
        mis.scripts["POST /booking/book"].delay = 3
        silent = book(fer, slot_id=places["adult"]["id"])
    assert late["outcome"] == "timeout" and "later than the allowed" in late["message"] and late["latency_ms"] >= 900
    assert silent["outcome"] == "timeout" and "did not answer" in silent["message"]
    assert fer.get("/api/slot", id=places["adult"]["id"]).json()["result"]["status"] == "AVAILABLE"
    assert late["violations"][0]["requirement"] == "FER-BK-2"


@pytest.mark.slow
@pytest.mark.req("FER-BK-2")
def test_a_mis_answering_after_11_seconds_misses_the_real_10_second_deadline(fer: Fer) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"])
        mis.scripts["POST /booking/book"].delay = 11
        result = book(fer, slot_id=places["adult"]["id"])
    assert result["outcome"] == "timeout" and 11_000 <= result["latency_ms"] < 13_000
    assert "after 11." in result["message"] and "later than the allowed 10 s" in result["message"]


@pytest.mark.req("FER-BK-2")
def test_no_webhook_or_refused_connection_is_a_transport_error(fer: Fer) -> None:
    places = region(fer)
    assert book(fer, slot_id=places["adult"]["id"])["outcome"] == "transport_error"
    with mis_stub() as mis:
        registered(fer, mis)
    result = book(fer, slot_id=places["adult"]["id"])  # the stub is gone: connection refused
    assert result["outcome"] == "transport_error" and "connection" in result["message"]


@pytest.mark.req("FER-CN-1", "FER-CN-2")
def test_cancel_accepts_the_cyrillic_spelling_with_a_warning_and_frees_the_slot(fer: Fer) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"], ext_id="597bc82e-88a5-4be5-8bd2-51a54312dbef")
        ext_id = book(fer, slot_id=places["adult"]["id"])["book_ext_id"]
        mis.answer("POST /booking/cancel", body={"book_ext_id": ext_id,
                   "status": {"status_сode": 0, "status_message": "Вы отменили своё заявление"}})  # fmt: skip
        result = fer.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": ext_id}).json()
        sent = mis.received[-1][2]
    assert sent == {"book_ext_id": ext_id, "patient_id": sent["patient_id"], "united_guids": []}
    jsonschema.validate(sent, MIS.schema("CancelRequest"))
    assert result["outcome"] == "success" and any("status_сode" in w for w in result["warnings"])
    assert fer.get("/api/slot", id=places["adult"]["id"]).json()["result"]["status"] == "AVAILABLE"
    assert fer.get("/api/book", id=ext_id).json()["result"]["status_code"] == 5010
    assert fer.admin("GET", "/fer/associations").json()["associations_slots"][0]["book_ext_id"] is None


@pytest.mark.req("FER-CN-1")
@pytest.mark.parametrize(("code", "outcome"), [(1, "business_error"), (18, "business_error"), (5, "violation")])
def test_cancel_codes(fer: Fer, code: int, outcome: str) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"])
        ext_id = book(fer, slot_id=places["adult"]["id"])["book_ext_id"]
        mis.answer("POST /booking/cancel", body={"book_ext_id": ext_id,
                   "status": {"status_сode": code, "status_message": "Запись с ИД записи уже отменена"}})  # fmt: skip
        result = fer.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": ext_id}).json()
    assert result["outcome"] == outcome and result["status_code"] == code
    assert fer.get("/api/slot", id=places["adult"]["id"]).json()["result"]["status"] == "RECORDED"


@pytest.mark.req("FER-EPGU-2", "FER-BK-5", "FER-CN-2")
def test_referral_booking_records_the_referral_and_cancel_makes_it_available_again(fer: Fer) -> None:
    places = region(fer)
    referral = data.referral(places["mo"]["id"], speciality_id="27", to_profile_code="97")
    fer.post("referral", [referral]).raise_for_status()
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["child"]["id"], ext_id="7d3c4e52-0000-4000-8000-000000000001")
        child = {"birthdate": (dt.date.today() - dt.timedelta(days=365 * 8)).isoformat() + "T00:00:00"}
        result = book(fer, referral_id=referral["id"], patient=child)
        assert result["outcome"] == "success" and result["slot_id"] == places["child"]["id"]
        assert mis.received[-1][2]["referral_id"] == referral["id"]
        assert fer.get("/api/referral", id=referral["id"]).json()["result"]["status"] == "RECORDED"
        assert fer.get("/api/book", id=result["book_ext_id"]).json()["result"]["referral_id"] == referral["id"]
        again = book(fer, referral_id=referral["id"])
        assert again["outcome"] == "no_referral" and again["book_ext_id"] == result["book_ext_id"]
        mis.answer("POST /booking/cancel", body={"book_ext_id": result["book_ext_id"], "status": {"status_code": 0}})
        fer.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": result["book_ext_id"]})
    assert fer.get("/api/referral", id=referral["id"]).json()["result"]["status"] == "AVAILABLE"


@pytest.mark.req("FER-EPGU-1", "FER-EPGU-2")
def test_slot_search_filters_as_epgu_does(fer: Fer) -> None:
    places = region(fer)
    adult = fer.admin("GET", "/fer/epgu/slots", params={"age": 30}).json()
    assert adult["count"] == 1 and adult["first"][0]["id"] == places["adult"]["id"]
    assert fer.admin("GET", "/fer/epgu/slots", params={"age": 8}).json()["count"] == 0  # CHILD slot is REFERRAL-only
    referral = fer.admin("GET", "/fer/epgu/slots", params={"age": 8, "referral": "true", "profile_code": "97"}).json()
    assert referral["count"] == 1 and referral["groups"][0]["resource_id"] == places["doctor"]["id"]
    assert fer.admin("GET", "/fer/epgu/slots", params={"profile_code": "1", "referral": "true"}).json()["count"] == 0
    period = data.period(places["doctor"]["id"], beg_date=f"{DAY}T00:00:00", end_date=f"{DAY}T23:59:59")
    fer.post("unaccessable_period", [period]).raise_for_status()
    assert fer.admin("GET", "/fer/epgu/slots", params={"age": 30}).json()["count"] == 0
    assert book(fer)["outcome"] == "no_slots"
    assert book(fer, referral_id=data.guid())["outcome"] == "no_referral"


@pytest.mark.req("FER-BK-1")
def test_vaccination_and_wrong_age_requests(fer: Fer) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"], code=14)
        book(fer, slot_id=places["adult"]["id"], booking_type="VACCINATION")
        vaccination = mis.received[-1][2]
        book(fer, slot_id=places["adult"]["id"], patient={"age_fits": False})
        young = mis.received[-1][2]["patient_data_rrp"]
    assert vaccination["booking_type"] == "VACCINATION"
    assert vaccination["service_id"] and vaccination["dictionary_nsi_code"] == "A25.30.001"
    assert (dt.date.fromisoformat(DAY) - dt.date.fromisoformat(young["birthdate"][:10])).days < 18 * 365
    assert book(fer, booking_type="SURGERY")["outcome"] == "rejected"


@pytest.mark.req("FER-REF-3", "FER-FRESH-1", "FER-BK-5")
def test_the_gateway_watches_what_the_mis_uploads_after_a_booking_and_a_cancel(fer_factory) -> None:
    fer = fer_factory(**{"fer.followup_seconds": 0.5})
    fer.login()
    places = region(fer)
    slot = places["adult"]
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, slot["id"], ext_id="3f8e8a52-1111-4111-8111-000000000001")
        ext_id = book(fer, slot_id=slot["id"])["book_ext_id"]
        waiting = fer.admin("GET", "/state").json()["bookings"][0]
        assert waiting["awaiting"] == ["book_uploaded", "slot_recorded"] and waiting["overdue"] == []
        # the MIS re-sends the slot as RECORDED and uploads the book with id = book_ext_id
        fer.post("slot", [{**slot, "status": "RECORDED"}]).raise_for_status()
        assert fer.post("book", [data.book(slot["id"], id=ext_id)]).status_code == 200
        done = fer.admin("GET", "/state").json()["bookings"][0]
        assert done["awaiting"] == [] and set(done["seconds_until"]) == {"book_uploaded", "slot_recorded"}
        notes = fer.admin("GET", "/journal", params={"operation": "book.upsert"}).json()["events"][-1]["notes"]
        assert any("FER-REF-3" in note for note in notes)

        mis.answer("POST /booking/cancel", body={"book_ext_id": ext_id, "status": {"status_code": 0}})
        fer.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": ext_id})
    import time

    time.sleep(0.7)
    overdue = fer.admin("GET", "/state").json()["bookings"][0]
    assert overdue["status"] == "CANCELED" and overdue["overdue"] == ["slot_available"]


@pytest.mark.req("FER-REF-3")
def test_a_mis_that_never_uploads_the_book_is_reported_overdue(fer_factory) -> None:
    fer = fer_factory(**{"fer.followup_seconds": 0.3})
    fer.login()
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"])
        ext_id = book(fer, slot_id=places["adult"]["id"])["book_ext_id"]
    wrong = fer.post("book", [data.book(places["adult"]["id"])])  # a book with another id: rejected
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["errorCode"] == "R-220"
    import time

    time.sleep(0.5)
    state = fer.admin("GET", "/state").json()["bookings"][0]
    assert state["book_ext_id"] == ext_id and "book_uploaded" in state["overdue"]
