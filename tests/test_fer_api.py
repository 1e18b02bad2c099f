"""FER-API-*, FER-ENV-*, FER-REF-*, FER-DEL-1, FER-FRESH-1: the showcase's operations over real HTTP."""

from __future__ import annotations

import pytest
import requests

from tests import fer_data as data
from tests.conftest import SEED_OID, Fer

ENTITIES = [
    "mo",
    "resource",
    "service",
    "slot",
    "book",
    "referral",
    "unaccessable_period",
    "profilecode_resource",
]


def region(fer: Fer) -> dict[str, dict]:
    """One MO, a specialist, a RECORDED and an AVAILABLE slot, and one of everything else."""
    mo = data.mo()
    doctor = data.specialist(mo["id"])
    booked = data.slot(mo["id"], doctor["id"], "2024-03-28T08:00:00", status="RECORDED")
    free = data.slot(mo["id"], doctor["id"], "2024-03-29T08:00:00")
    records = {
        "mo": mo, "resource": doctor, "slot": booked, "free_slot": free, "service": data.service(doctor["id"]),
        "book": data.book(booked["id"]), "referral": data.referral(mo["id"]),
        "unaccessable_period": data.period(doctor["id"]), "profilecode_resource": data.profile(doctor["id"]),
    }  # fmt: skip
    for name in ["mo", "resource", "slot", "free_slot", "service", "book", "referral", "unaccessable_period",
                 "profilecode_resource"]:  # fmt: skip
        entity = "slot" if name == "free_slot" else name
        answer = fer.post(entity, [records[name]])
        assert answer.status_code == 200, answer.text
    return records


def key_of(entity: str, record: dict) -> str:
    return record["period_id"] if entity == "unaccessable_period" else record["id"]


@pytest.mark.req("FER-API-1", "FER-API-2", "FER-ENV-1")
@pytest.mark.parametrize("entity", ENTITIES)
def test_every_entity_round_trips(fer: Fer, entity: str) -> None:
    record = region(fer)[entity]
    answer = fer.get(f"/api/{entity}", id=key_of(entity, record))
    body = answer.json()
    assert answer.status_code == 200 == body["statusCode"]
    assert body["isSuccess"] is True and body["error"] is None and body["errors"] is None
    stored = body["result"]
    assert {k: v for k, v in stored.items() if k != "update_ts"} == record
    assert stored["update_ts"]  # FER-FLK-5: set by the service


@pytest.mark.req("FER-API-1")
def test_upsert_updates_by_id_and_lists_sended_guids(fer: Fer) -> None:
    records = region(fer)
    changed = {**records["free_slot"], "status": "BLOCKED"}
    answer = fer.post("slot", [changed])
    assert answer.json()["sendedGuids"] == [changed["id"]]
    assert answer.json()["sendedGuidsToContactCenter"] == [changed["id"]]
    assert fer.get("/api/slot", id=changed["id"]).json()["result"]["status"] == "BLOCKED"


@pytest.mark.req("FER-API-2", "FER-ENV-2")
def test_unknown_id_is_404_and_missing_id_is_400(fer: Fer) -> None:
    missing = fer.get("/api/slot", id=data.guid())
    assert missing.status_code == 404 and missing.json()["error"]["errorCode"] == "404"
    assert missing.json()["error"]["errorMessage"].startswith(
        "Результат по заданному идентификатору SQL-запроса не найден"
    )
    assert fer.get("/api/slot").status_code == 400


@pytest.mark.req("FER-API-4")
def test_lookups_including_the_seed_spellings(fer: Fer) -> None:
    records = region(fer)
    mo_id, doctor = records["mo"]["id"], records["resource"]["id"]
    for path in (f"/api/mo/oid/{SEED_OID}", f"/api/oid/{SEED_OID}"):
        assert [m["id"] for m in fer.get(path).json()["result"]] == [mo_id]
    assert [r["id"] for r in fer.get(f"/api/mo/{mo_id}/resource").json()["result"]] == [doctor]
    for spelling in ("resourse", "resource"):
        window = fer.get(f"/api/{spelling}/{doctor}/slots", startDate="2024-03-29", endDate="2024-03-29").json()
        assert [s["id"] for s in window["result"]] == [records["free_slot"]["id"]]
        everything = fer.get(f"/api/{spelling}/{doctor}/slots").json()["result"]
        assert [s["visit_time"] for s in everything] == ["2024-03-28T08:00:00", "2024-03-29T08:00:00"]
    assert [b["id"] for b in fer.get(f"/api/slot/{records['slot']['id']}/books").json()["result"]] == [
        records["book"]["id"]
    ]
    assert fer.get(f"/api/resourse/{doctor}/slots", startDate="28.03.2024").status_code == 400
    assert fer.get(f"/api/mo/{data.guid()}/resource").status_code == 404


@pytest.mark.req("FER-API-3", "FER-DEL-1")
def test_deleting_an_mo_cascades_to_everything_under_it(fer: Fer) -> None:
    records = region(fer)
    answer = fer.delete("mo", records["mo"]["id"])
    assert answer.status_code == 200 and answer.json()["sendedGuids"] == [records["mo"]["id"]]
    for entity in [
        "mo",
        "resource",
        "slot",
        "service",
        "book",
        "unaccessable_period",
        "profilecode_resource",
    ]:
        assert fer.get(f"/api/{entity}", id=key_of(entity, records[entity])).status_code == 404, entity
    assert fer.get("/api/referral", id=records["referral"]["id"]).status_code == 200
    assert fer.delete("mo", records["mo"]["id"]).status_code == 404


@pytest.mark.req("FER-DEL-1")
def test_deleting_a_resource_or_slot_cascades_downwards_only(fer: Fer) -> None:
    records = region(fer)
    assert fer.delete("slot", records["slot"]["id"]).status_code == 200
    assert fer.get("/api/book", id=records["book"]["id"]).status_code == 404
    assert fer.get("/api/resource", id=records["resource"]["id"]).status_code == 200
    assert fer.delete("resource", records["resource"]["id"]).status_code == 200
    for entity in ["slot", "service", "profilecode_resource"]:
        assert (
            fer.get(
                f"/api/{entity}", id=records[entity]["id"] if entity != "slot" else records["free_slot"]["id"]
            ).status_code
            == 404
        )
    assert fer.get("/api/mo", id=records["mo"]["id"]).status_code == 200


@pytest.mark.req("FER-REF-1")
@pytest.mark.parametrize(
    "entity", ["resource", "service", "slot", "book", "unaccessable_period", "profilecode_resource"]
)
def test_records_must_reference_existing_parents(fer: Fer, entity: str) -> None:
    orphan = {
        "resource": data.room(data.guid()), "service": data.service(data.guid()),
        "slot": data.slot(data.guid(), data.guid()), "book": data.book(data.guid()),
        "unaccessable_period": data.period(data.guid()), "profilecode_resource": data.profile(data.guid()),
    }[entity]  # fmt: skip
    answer = fer.post(entity, [orphan])
    body = answer.json()
    assert answer.status_code == 400 and body["errors"][0]["errorCode"] == "R-200"
    assert "не найдена в витрине" in body["errors"][0]["errorMessage"]


@pytest.mark.req("FER-REF-1")
def test_slot_resource_must_belong_to_the_slot_mo(fer: Fer) -> None:
    records = region(fer)
    other = data.mo()
    fer.post("mo", [other]).raise_for_status()
    answer = fer.post("slot", [data.slot(other["id"], records["resource"]["id"], "2024-05-01T10:00:00")])
    assert (
        answer.status_code == 400
        and "относится к структурному подразделению" in answer.json()["errors"][0]["errorMessage"]
    )


@pytest.mark.req("FER-REF-2")
def test_book_needs_its_slot_recorded(fer: Fer) -> None:
    records = region(fer)
    answer = fer.post("book", [data.book(records["free_slot"]["id"])])
    assert answer.status_code == 400 and answer.json()["errors"][0]["errorCode"] == "R-210"
    assert "статусом RECORDED" in answer.json()["errors"][0]["errorMessage"]


@pytest.mark.req("FER-REF-3")
def test_book_id_must_equal_the_epgu_book_ext_id(fer: Fer) -> None:
    records = region(fer)
    slot_id, ext_id = records["slot"]["id"], data.guid()
    assert fer.admin("POST", "/fer/associations", json={"slot_id": slot_id, "book_ext_id": ext_id}).status_code == 201
    wrong = fer.post("book", [data.book(slot_id)])
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["errorCode"] == "R-220"
    assert fer.post("book", [data.book(slot_id, id=ext_id)]).status_code == 200


@pytest.mark.req("FER-DUP-1")
def test_mo_name_duplicates_inside_one_request(fer: Fer) -> None:
    first, second = data.mo(name="Одно имя"), data.mo(name="Одно имя")
    answer = fer.post("mo", [first, second])
    assert answer.status_code == 422 and answer.json()["sendedGuids"] == [first["id"]]


@pytest.mark.req("FER-DUP-3")
def test_slot_moved_onto_a_time_freed_in_the_same_batch_is_not_a_duplicate(fer: Fer) -> None:
    records = region(fer)
    a, b = records["slot"], records["free_slot"]
    swapped = [{**a, "visit_time": b["visit_time"]}, {**b, "visit_time": a["visit_time"]}]
    assert fer.post("slot", swapped).status_code == 200


@pytest.mark.req("FER-ENV-2")
def test_maintenance_mode_answers_503_with_the_seed_text(fer: Fer) -> None:
    assert fer.admin("POST", "/faults", json={"kind": "maintenance"}).status_code == 201
    answer = fer.post("mo", [data.mo()])
    assert answer.status_code == 503
    assert (
        answer.json()["error"]["errorMessage"]
        == "Выполняются технические работы, отправка данных приостановлена до окончания работ."
    )
    auth = requests.post(f"{fer.url}/auth.svc", json={"username": SEED_OID, "password": "x"})
    assert auth.status_code == 503 and auth.json()["StatusCode"] == 503
    fer.admin("DELETE", "/faults")
    assert fer.post("mo", [data.mo()]).status_code == 200


@pytest.mark.req("FER-ENV-2")
def test_blocked_mo_answers_405_until_unblocked(fer: Fer) -> None:
    assert fer.admin("POST", "/fer/blocks", json={"oid": SEED_OID}).status_code == 201
    answer = fer.post("mo", [data.mo()])
    assert answer.status_code == 405
    assert answer.json()["error"]["errorMessage"].startswith(
        f"Обновление информации о структурных подразделениях МО [{SEED_OID}] заблокировано."
    )
    assert fer.get("/api/mo", id="x").status_code == 404  # reads still work
    fer.admin("DELETE", "/fer/blocks", params={"oid": SEED_OID})
    assert fer.post("mo", [data.mo()]).status_code == 200


@pytest.mark.req("FER-ENV-2")
def test_too_many_technical_errors_block_the_mo_and_set_enabled_none(fer_factory) -> None:
    fer = fer_factory(**{"fer.block_after_errors": 3})
    fer.login()
    mo = data.mo()
    fer.post("mo", [mo]).raise_for_status()
    for _ in range(3):
        assert fer.post("slot", [{"id": "bad"}]).status_code == 400
    assert fer.post("mo", [data.mo()]).status_code == 405
    assert fer.get("/api/mo", id=mo["id"]).json()["result"]["enabled"] == "NONE"
    assert fer.admin("GET", "/fer/blocks").json()["blocked"][0]["oid"] == SEED_OID


@pytest.mark.req("FER-ENV-2")
def test_unsupported_protocol_version_is_406(fer: Fer) -> None:
    answer = fer.http.get(f"{fer.url}/api/mo", params={"id": "x"}, headers={"X-Api-Version": "7"})
    assert answer.status_code == 406 and answer.json()["error"]["errorMessage"].startswith(
        "Неподдерживаемая версия протокола"
    )


@pytest.mark.req("FER-FRESH-1")
def test_freshness_is_measured_per_mo_and_late_refreshes_are_counted(fer_factory) -> None:
    fer = fer_factory(**{"fer.slot_refresh_seconds": 0.5})
    fer.login()
    records = region(fer)
    import time

    time.sleep(0.7)
    fer.post("slot", [records["free_slot"]]).raise_for_status()
    time.sleep(0.6)
    report = fer.admin("GET", "/state").json()["freshness"]["by_mo_oid"][SEED_OID]
    assert report["slot"]["late_refreshes"] == 1 and report["slot"]["stale"] is True
    assert report["mo"]["stale"] is False and report["mo"]["limit_seconds"] == 3600
