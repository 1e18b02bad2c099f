"""FER-FLK-*: format-logic control per the tables of Приложение 1, one errors[] item per record and field."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.core.config import load_settings
from emulators.core.contract import Contract, contracts_dir
from tests import fer_data as data
from tests.conftest import Fer

WRONG_TYPE = {"string": 12345, "integer": "x", "number": "x", "boolean": "x"}


def prepared(fer: Fer) -> dict[str, Any]:
    mo = data.mo()
    doctor = data.specialist(mo["id"])
    fer.post("mo", [mo]).raise_for_status()
    fer.post("resource", [doctor]).raise_for_status()
    recorded = data.slot(mo["id"], doctor["id"], status="RECORDED")
    fer.post("slot", [recorded]).raise_for_status()
    return {
        "mo": data.mo(),
        "resource": data.specialist(mo["id"]),
        "slot": data.slot(mo["id"], doctor["id"], "2024-04-01T09:00:00"),
        "service": data.service(doctor["id"]),
        "book": data.book(recorded["id"]),
        "referral": data.referral(mo["id"]),
        "unaccessable_period": data.period(doctor["id"]),
        "profilecode_resource": data.profile(doctor["id"]),
    }


def fields_with_types() -> list[tuple[str, str, str]]:
    contract = Contract(contracts_dir() / "fer/gateway.openapi.yaml")
    names = {
        "mo": "Mo",
        "resource": "Resource",
        "slot": "Slot",
        "service": "Service",
        "book": "Book",
        "referral": "Referral",
        "unaccessable_period": "UnaccessablePeriod",
        "profilecode_resource": "ProfilecodeResource",
    }
    found = []
    for entity, schema in names.items():
        for field, spec in contract.schema(schema)["properties"].items():
            kind = spec.get("type")
            kind = kind[0] if isinstance(kind, list) else kind
            if kind in WRONG_TYPE:
                found.append((entity, field, kind))
            elif "oneOf" in spec:
                found.append((entity, field, "integer"))
    return found


@pytest.mark.req("FER-FLK-2", "X-5")
@pytest.mark.parametrize(("entity", "field", "kind"), fields_with_types())
def test_wrong_type_in_every_field_is_reported_and_nothing_is_lost(
    fer: Fer, entity: str, field: str, kind: str
) -> None:
    records = prepared(fer)
    good = records[entity]
    bad = {**good, field: WRONG_TYPE[kind] if kind != "integer" else [1]}
    if field in {"id", "period_id"}:
        bad[field] = 12345
    answer = fer.post(entity, [bad])
    body = answer.json()
    assert answer.status_code == 400 == body["statusCode"], body
    assert any(f"[{field}]" in e["errorMessage"] for e in body["errors"]), body["errors"]
    assert body["sendedGuids"] == []
    assert fer.post(entity, [good]).status_code == 200  # a later valid request still works


@pytest.mark.req("FER-FLK-1")
def test_each_missing_required_field_is_its_own_error(fer: Fer) -> None:
    slot = prepared(fer)["slot"]
    del slot["visit_time"], slot["status"]
    errors = fer.post("slot", [slot]).json()["errors"]
    assert [(e["id"], e["errorCode"]) for e in errors] == [(slot["id"], "R-100")] * 2
    assert {e["errorMessage"].split(": ", 1)[1] for e in errors} == {
        "Не заполнено обязательное поле [visit_time]",
        "Не заполнено обязательное поле [status]",
    }


@pytest.mark.req("FER-FLK-2")
@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("id", "1B0AAEC1-38BA-4BF2-A82C-39F90B925A78", "R-130"),
        ("id", "1b0aaec138ba4bf2a82c39f90b925a78", "R-130"),
        ("mo_id", "x" * 46, "R-120"),
        ("duration", "2O", "R-110"),
        ("duration", 0, "R-110"),
    ],
)
def test_guid_length_and_integer_rules(fer: Fer, field: str, value: Any, code: str) -> None:
    slot = {**prepared(fer)["slot"], field: value}
    errors = fer.post("slot", [slot]).json()["errors"]
    assert code in {e["errorCode"] for e in errors}


@pytest.mark.req("FER-FLK-2")
def test_snils_checksum_and_price_number(fer: Fer) -> None:
    records = prepared(fer)
    bad_snils = fer.post("resource", [{**records["resource"], "snils": "11223344596"}]).json()["errors"]
    assert bad_snils[0]["errorCode"] == "R-150"
    assert fer.post("service", [{**records["service"], "price": "100"}]).status_code == 400
    assert fer.post("service", [{**records["service"], "price": 100}]).status_code == 200


@pytest.mark.req("FER-FLK-3")
@pytest.mark.parametrize(
    ("entity", "field", "value"),
    [
        ("mo", "enabled", "SOME"),
        ("mo", "tag_age", "BABY"),
        ("resource", "type", "NURSE"),
        ("slot", "tag_type", "EPGU,WEB"),
        ("slot", "tag_age", "OLD"),
        ("slot", "status", "FREE"),
        ("book", "status_code", 5050),
        ("book", "tag_source", "TV"),
        ("book", "type", "SURGERY"),
        ("referral", "type", "OTHER"),
        ("referral", "status", "DONE"),
        ("unaccessable_period", "reason", "STRIKE"),
    ],
)
def test_enumerations(fer: Fer, entity: str, field: str, value: Any) -> None:
    record = {**prepared(fer)[entity], field: value}
    errors = fer.post(entity, [record]).json()["errors"]
    assert any(e["errorCode"] == "R-140" and f"[{field}]" in e["errorMessage"] for e in errors), errors


@pytest.mark.req("FER-FLK-3")
def test_tag_type_accepts_a_comma_separated_list(fer: Fer) -> None:
    slot = {**prepared(fer)["slot"], "tag_type": "EPGU,REGISTRY, REFERRAL"}
    assert fer.post("slot", [slot]).status_code == 200


@pytest.mark.req("FER-FLK-4")
def test_resource_type_decides_required_and_forbidden_fields(fer: Fer) -> None:
    mo_id = prepared(fer)["resource"]["mo_id"]
    machine = {**data.machine(mo_id), "snils": "11223344595"}
    room = data.room(mo_id)
    del room["room_name"]
    specialist = data.specialist(mo_id)
    del specialist["post_id"]
    answer = fer.post("resource", [machine, room, specialist, data.machine(mo_id)])
    messages = [e["errorMessage"] for e in answer.json()["errors"]]
    assert any("[snils] не должно заполняться при type = MACHINE" in m for m in messages)
    assert any("[room_name] (обязательно при type = ROOM)" in m for m in messages)
    assert any("[post_id] (обязательно при type = SPECIALIST)" in m for m in messages)
    assert len(answer.json()["sendedGuids"]) == 1


@pytest.mark.req("FER-FLK-4")
def test_referral_type_decides_required_fields(fer: Fer) -> None:
    records = prepared(fer)
    research = {**records["referral"], "type": "RESEARCH"}
    errors = fer.post("referral", [research]).json()["errors"]
    assert any("[to_service_id]" in e["errorMessage"] for e in errors)
    assert any("[to_service_name]" in e["errorMessage"] for e in errors)  # «…to_service_id, to_service_name»
    without_name = fer.post("referral", [{**research, "to_service_id": "A05.10.006"}])
    assert without_name.status_code == 400 and "[to_service_name]" in without_name.json()["errors"][0]["errorMessage"]
    named = {**research, "to_service_id": "A05.10.006", "to_service_name": "Рентгенография грудной клетки"}
    assert fer.post("referral", [named]).status_code == 200


@pytest.mark.req("FER-FLK-5")
@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("visit_time", "2024-03-27T05:00:00", True),
        ("visit_time", "2024-03-28 05:00:00", False),
        ("visit_time", "2024-02-30T05:00:00", False),
        ("visit_time", "2024-03-28T05:00:00+05:00", False),
        ("create_ts", "2023-10-01T09:00:00+03:00", True),
        ("create_ts", "2023-10-01T09:00:00.123Z", True),
        ("create_ts", "20.10.2023 08:00:00", True),
        ("create_ts", "2023-10-01 09:00:00", True),
        ("create_ts", "2023/10/01", False),
        ("create_ts", "32.10.2023 08:00:00", False),
    ],
)
def test_date_formats(fer: Fer, field: str, value: str, ok: bool) -> None:
    slot = {**prepared(fer)["slot"], field: value}
    assert (fer.post("slot", [slot]).status_code == 200) is ok


@pytest.mark.req("FER-FLK-5")
def test_sent_update_ts_is_ignored_and_noted_in_the_journal(fer: Fer) -> None:
    slot = {**prepared(fer)["slot"], "update_ts": "string"}
    assert fer.post("slot", [slot]).status_code == 200
    assert fer.get("/api/slot", id=slot["id"]).json()["result"]["update_ts"] != "string"
    event = fer.admin("GET", "/journal", params={"operation": "slot.upsert", "limit": 1}).json()["events"][0]
    assert any("update_ts" in note for note in event["notes"])


@pytest.mark.req("FER-FLK-6")
def test_partial_batch_stores_the_valid_records(fer: Fer) -> None:
    records = prepared(fer)
    good, bad = (
        records["slot"],
        {**records["slot"], "id": data.guid(), "status": "?", "visit_time": "2024-06-01T09:00:00"},
    )
    answer = fer.post("slot", [bad, good])
    body = answer.json()
    assert answer.status_code == 400 and body["isSuccess"] is False
    assert body["sendedGuids"] == [good["id"]] and [e["id"] for e in body["errors"]] == [bad["id"]]
    assert fer.get("/api/slot", id=good["id"]).status_code == 200


def test_settings_reject_unknown_keys() -> None:
    from emulators.core.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(overrides={"fer.prot": 1})
