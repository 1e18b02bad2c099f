"""The seed's booking rules the gateway enforces before calling the MIS (FER-BK-6, FER-BK-7, FER-EPGU-1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests import fer_data as data
from tests.conftest import SEED_OID, Fer
from tests.mis_stub import MisStub, mis_stub
from tests.test_fer_booking import DAY, book, booked, region, registered

TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


def calls(mis: MisStub, path: str) -> int:
    return sum(1 for method, called, _ in mis.received if method == "POST" and called == path)


def cancel(fer: Fer, **body: Any) -> dict[str, Any]:
    return dict(fer.admin("POST", "/fer/epgu/cancel", json=body).json())


@pytest.mark.req("FER-BK-6")
def test_a_booked_slot_is_not_booked_again_and_force_sends_it_anyway(fer: Fer) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"])
        assert book(fer, slot_id=places["adult"]["id"])["outcome"] == "success"
        again = book(fer, slot_id=places["adult"]["id"])
        assert again["outcome"] == "rejected" and "FER-BK-6" in again["message"] and "RECORDED" in again["message"]
        assert calls(mis, "/booking/book") == 1  # the MIS was not called
        assert book(fer, slot_id=places["adult"]["id"], force=True)["outcome"] == "success"
        assert calls(mis, "/booking/book") == 2
    books = fer.get(f"/api/slot/{places['adult']['id']}/books").json()["result"]
    assert len(books) == 1  # one booking per book_ext_id: never two books 5000 from one refused request


@pytest.mark.req("FER-BK-6", "FER-CN-1")
def test_a_cancelled_booking_is_not_cancelled_again_unless_forced(fer: Fer) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"])
        ext_id = book(fer, slot_id=places["adult"]["id"])["book_ext_id"]
        mis.answer("POST /booking/cancel", body={"book_ext_id": ext_id, "status": {"status_code": 0}})
        assert cancel(fer, book_ext_id=ext_id)["outcome"] == "success"
        twice = cancel(fer, book_ext_id=ext_id)
        assert twice["outcome"] == "rejected" and "UC-1.1" in twice["message"]
        assert calls(mis, "/booking/cancel") == 1
        mis.answer("POST /booking/cancel", body={"book_ext_id": ext_id, "status": {"status_code": 1}})
        forced = cancel(fer, book_ext_id=ext_id, force=True)
    assert forced["outcome"] == "business_error" and forced["status_code"] == 1


@pytest.mark.req("FER-BK-6", "FER-EPGU-1")
def test_a_slot_whose_time_has_passed_today_is_neither_offered_nor_booked(fer: Fer) -> None:
    mo = data.mo()
    doctor = data.specialist(mo["id"])
    past = (dt.datetime.now() - dt.timedelta(minutes=1)).replace(microsecond=0)
    if past.date() != dt.date.today():
        pytest.skip("just after midnight")
    slot = data.slot(mo["id"], doctor["id"], past.isoformat())
    for entity, record in (("mo", mo), ("resource", doctor), ("slot", slot)):
        fer.post(entity, [record]).raise_for_status()
    assert book(fer)["outcome"] == "no_slots"
    given = book(fer, slot_id=slot["id"])
    assert given["outcome"] == "rejected" and "has passed" in given["message"]


@pytest.mark.req("FER-EPGU-1")
def test_the_days_window_has_exactly_that_many_days(fer: Fer) -> None:
    mo = data.mo()
    doctor = data.specialist(mo["id"])
    fer.post("mo", [mo]).raise_for_status()
    fer.post("resource", [doctor]).raise_for_status()
    fer.post("slot", [data.slot(mo["id"], doctor["id"], f"{TOMORROW}T09:00:00")]).raise_for_status()
    one_day = fer.admin("GET", "/fer/epgu/slots", params={"date_from": dt.date.today().isoformat(), "days": 1})
    two_days = fer.admin("GET", "/fer/epgu/slots", params={"date_from": dt.date.today().isoformat(), "days": 2})
    assert one_day.json()["count"] == 0 and two_days.json()["count"] == 1


@pytest.mark.req("FER-BK-7")
def test_a_referral_booking_is_an_appointment_with_its_referral_id(fer: Fer) -> None:
    places = region(fer)
    referral = data.referral(places["mo"]["id"])
    fer.post("referral", [referral]).raise_for_status()
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["child"]["id"])
        result = book(fer, referral_id=referral["id"], booking_type="VACCINATION", patient={"birthdate": "2015-01-01"})
        sent = mis.received[-1][2]
    assert result["outcome"] == "success", result
    assert sent["booking_type"] == "APPOINTMENT" and sent["referral_id"] == referral["id"]
    assert any("APPOINTMENT sent" in w for w in result["warnings"])
    missing = book(fer, referral=True)
    assert missing["outcome"] == "rejected" and "referral_id" in missing["message"]


@pytest.mark.req("FER-BK-7")
def test_a_vaccination_booking_carries_a_service_or_is_refused(fer: Fer) -> None:
    places = region(fer)  # the doctor offers the service A25.30.001
    mo, room = places["mo"], data.room(places["mo"]["id"])
    fer.post("resource", [room]).raise_for_status()
    early = data.slot(mo["id"], room["id"], f"{DAY}T07:00:00")  # earlier, but its resource offers no service
    fer.post("slot", [early]).raise_for_status()
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"])
        chosen = book(fer, booking_type="VACCINATION")
        sent = mis.received[-1][2]
        refused = book(fer, booking_type="VACCINATION", slot_id=early["id"])
    assert chosen["slot_id"] == places["adult"]["id"]
    assert sent["service_id"] and sent["dictionary_nsi_code"] == "A25.30.001"
    assert refused["outcome"] == "rejected" and "service" in refused["message"]


@pytest.mark.req("FER-EPGU-1")
def test_a_resource_with_an_unavailability_period_in_the_interval_is_not_offered(fer: Fer) -> None:
    places = region(fer)
    # the period covers only the day after the slots, yet it intersects the 14-day interval ЕПГУ asks for
    later = (dt.date.fromisoformat(DAY) + dt.timedelta(days=1)).isoformat()
    fer.post("unaccessable_period", [data.period(places["doctor"]["id"], beg_date=f"{later}T00:00:00",
                                                 end_date=f"{later}T23:59:59")]).raise_for_status()  # fmt: skip
    assert book(fer)["outcome"] == "no_slots"
    beyond = dt.date.today() + dt.timedelta(days=30)
    assert fer.admin("GET", "/fer/epgu/slots", params={"date_from": beyond.isoformat()}).json()["count"] == 0


@pytest.mark.req("FER-EPGU-1")
def test_the_search_counts_available_and_booked_slots_per_day_as_step_7_2(fer: Fer) -> None:
    mo = data.mo()
    doctor = data.specialist(mo["id"])
    fer.post("mo", [mo]).raise_for_status()
    fer.post("resource", [doctor]).raise_for_status()
    slots = [data.slot(mo["id"], doctor["id"], f"{TOMORROW}T0{h}:00:00", tag_type=tag, status=status)
             for h, tag, status in ((8, "EPGU", "AVAILABLE"), (9, "EPGU,REGISTRY", "RECORDED"),
                                    (7, "REGISTRY", "RECORDED"), (6, "D_OBSERVATION", "AVAILABLE"))]  # fmt: skip
    fer.post("slot", slots).raise_for_status()
    answer = fer.admin("GET", "/fer/epgu/slots").json()
    (group,) = answer["groups"]
    assert group["day"] == TOMORROW and group["resource_id"] == doctor["id"] and group["tag_age"] == "ALL"
    assert (group["epgu"], group["recorded_epgu"], group["registry"], group["recorded_registry"]) == (2, 1, 2, 2)
    assert (group["d_observation"], group["recorded_d_observation"]) == (1, 0)
    assert answer["days"] == [{"day": TOMORROW, "online": True, "registry": False}]
    assert answer["count"] == 1  # offered to ЕПГУ: the AVAILABLE EPGU slot


@pytest.mark.req("FER-EPGU-1", "FER-EPGU-2")
def test_a_referral_search_covers_the_other_subdivisions_of_the_head_mo(fer: Fer) -> None:
    named, sibling = data.mo(), data.mo()
    doctor = data.specialist(sibling["id"], speciality_id="27")
    for entity, records in (("mo", [named, sibling]), ("resource", [doctor]),
                            ("profilecode_resource", [data.profile(doctor["id"], profile_code="97")]),
                            ("slot", [data.slot(sibling["id"], doctor["id"], f"{TOMORROW}T09:00:00", tag_type="REFERRAL")])):  # fmt: skip
        fer.post(entity, records).raise_for_status()
    referral = data.referral(named["id"], speciality_id="27", to_profile_code="97")
    fer.post("referral", [referral]).raise_for_status()
    with mis_stub() as mis:
        registered(fer, mis)
        mis.answer("POST /booking/book", body={"book_ext_id": data.guid(), "slot_id": "x", "visit_time": "x",
                                               "duration": "20", "status": {"status_code": 11}})  # fmt: skip
        result = book(fer, referral_id=referral["id"])
    assert result["outcome"] == "business_error" and mis.received[-1][2]["referral_id"] == referral["id"]
    assert mis.received[-1][2]["slot_id"] and result["slot_id"] is not None


@pytest.mark.req("FER-BK-6")
def test_a_failed_booking_leaves_no_watch_behind(fer: Fer) -> None:
    places = region(fer)
    with mis_stub() as mis:
        registered(fer, mis)
        booked(mis, places["adult"]["id"], code=11)
        assert book(fer, slot_id=places["adult"]["id"])["outcome"] == "business_error"
    for _ in range(50):
        fer.post("slot", [places["adult"]]).raise_for_status()
    followups = fer.gateway.booking.followups
    assert followups.early == {} and places["adult"]["id"] not in followups.watched
    assert SEED_OID  # the same MO uploaded it all along


@pytest.mark.req("FER-EPGU-1")
def test_the_search_follows_slots_that_move_are_booked_or_are_deleted(fer: Fer) -> None:
    mo = data.mo()
    doctor = data.specialist(mo["id"])
    first, second = (data.slot(mo["id"], doctor["id"], f"{TOMORROW}T0{h}:00:00") for h in (8, 9))
    for entity, records in (("mo", [mo]), ("resource", [doctor]), ("slot", [first, second])):
        fer.post(entity, records).raise_for_status()

    from emulators.fer.search import SlotQuery, first_slot

    def offered() -> str | None:  # the booking's search (time order) and the admin listing must agree
        listed = fer.admin("GET", "/fer/epgu/slots").json()["first"]
        chosen = first_slot(fer.gateway.showcase, SlotQuery(), dt.datetime.now())
        assert chosen == (listed[0]["id"] if listed else None)
        return chosen

    assert offered() == first["id"]
    fer.post("slot", [{**first, "visit_time": f"{TOMORROW}T10:00:00"}]).raise_for_status()  # moved later
    assert offered() == second["id"]
    fer.post("slot", [{**second, "status": "RECORDED"}]).raise_for_status()
    assert offered() == first["id"]
    assert fer.delete("slot", first["id"]).status_code == 200
    assert offered() is None
