"""The showcase demo region is reproducible and obeys Приложение 1 of the FER 2.0 seed (X-4)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import orjson
import pytest

from emulators.core.datagen import is_valid_snils
from emulators.fer.demo import POSTS, UPLOAD_ORDER, Region, generate_region

START = dt.date(2024, 9, 2)  # a Monday
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
ENABLED = {"ATTACHED_MO", "ATTACHED_REG", "ALL"}
SLOT_AGES = {"ADULT": {"ADULT"}, "CHILD": {"CHILD", "BABY"}, "ALL": {"ADULT", "CHILD", "BABY", "ALL"}}
SPECIALIST_ONLY = {
    "post_id",
    "speciality_id",
    "snils",
    "last_name",
    "first_name",
    "middle_name",
    "description",
}
MACHINE_ONLY = {"machine_name"}
ROOM_ONLY = {"room_number", "room_name"}


@pytest.fixture(scope="module")
def region() -> Region:
    return generate_region(seed=2024, mo_count=50, days=14, start=START)


def _dump(region: Region) -> bytes:
    return orjson.dumps({"credentials": region.credentials, **dict(region.batches())})


def _key(entity: str) -> str:
    return "period_id" if entity == "unaccessable_period" else "id"


def _by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


@pytest.mark.req("X-4")
def test_same_seed_gives_byte_identical_region(region: Region) -> None:
    again = generate_region(seed=2024, mo_count=50, days=14, start=START)
    assert _dump(again) == _dump(region)
    assert _dump(generate_region(seed=2025, mo_count=50, days=14, start=START)) != _dump(region)


@pytest.mark.req("X-4")
def test_small_regions_are_reproducible_too() -> None:
    dumps = {_dump(generate_region(7, mo_count=3, days=3, start=START, slots_per_resource_per_day=4)) for _ in range(3)}
    assert len(dumps) == 1


@pytest.mark.req("X-4")
def test_region_has_every_entity_in_upload_order(region: Region) -> None:
    assert [entity for entity, _ in region.batches()] == list(UPLOAD_ORDER)
    assert len(region.mo) == 50
    for entity in ("resource", "profilecode_resource", "service", "slot", "unaccessable_period", "referral"):
        assert getattr(region, entity), entity


@pytest.mark.req("X-4")
def test_all_ids_are_unique_lower_case_guids(region: Region) -> None:
    seen: list[str] = []
    for entity, records in region.batches():
        seen += [r[_key(entity)] for r in records]
    assert all(GUID.match(value) for value in seen)
    assert len(seen) == len(set(seen))


@pytest.mark.req("X-4")
def test_timestamps_use_the_showcase_format_and_update_ts_is_never_sent(region: Region) -> None:
    timestamp_fields = {"create_ts", "visit_time", "beg_date", "end_date", "start_date"}
    for entity, records in region.batches():
        for record in records:
            assert "update_ts" not in record, entity
            for name in timestamp_fields & record.keys():
                assert TS.match(record[name]), (entity, name, record[name])


@pytest.mark.req("X-4")
def test_mo_records_are_subdivisions_of_fewer_organisations(region: Region) -> None:
    oids = {oid for oid, _ in region.credentials}
    assert len(oids) == len(region.credentials)
    assert len(oids) < len(region.mo)
    per_org = Counter(mo["parent_id"] for mo in region.mo)
    assert set(per_org) == oids
    assert all(1 <= n <= 3 for n in per_org.values())
    assert len({mo["name"] for mo in region.mo}) == len(region.mo)
    assert len({mo["branch_oid"] for mo in region.mo}) == len(region.mo)
    for mo in region.mo:
        assert mo["branch_oid"].startswith(mo["parent_id"] + ".0.")
        assert re.fullmatch(r"1\.2\.643\.5\.1\.13\.13\.12\.2\.86\.\d{4}", mo["parent_id"])
        assert mo["enabled"] in ENABLED and mo["tag_age"] in {"ADULT", "CHILD", "ALL"}
        assert mo["name"] and mo["address"] and mo["phone"]
        assert len(mo["region_okato"]) <= 11
        assert "address_fias_guid" not in mo or GUID.match(mo["address_fias_guid"])


@pytest.mark.req("X-4")
def test_resources_carry_exactly_the_fields_of_their_type(region: Region) -> None:
    types = Counter(r["type"] for r in region.resource)
    assert types["SPECIALIST"] > types["MACHINE"] + types["ROOM"] > 0 and types["ROOM"] > 0
    for resource in region.resource:
        assert resource["enabled"] in ENABLED
        fields = resource.keys()
        if resource["type"] == "SPECIALIST":
            assert {"post_id", "speciality_id", "snils", "last_name", "first_name"} <= fields
            assert not fields & (MACHINE_ONLY | ROOM_ONLY)
            assert resource["post_id"] in POSTS
            assert len(resource["speciality_id"]) <= 45
            assert is_valid_snils(resource["snils"]) and len(resource["snils"]) == 11
        elif resource["type"] == "MACHINE":
            assert fields >= MACHINE_ONLY and not fields & (SPECIALIST_ONLY | ROOM_ONLY)
        else:
            assert resource["type"] == "ROOM"
            assert fields >= ROOM_ONLY and not fields & (SPECIALIST_ONLY | MACHINE_ONLY)


@pytest.mark.req("X-4")
def test_every_reference_points_to_an_existing_parent(region: Region) -> None:
    mos, resources = _by_id(region.mo), _by_id(region.resource)
    for resource in region.resource:
        assert resource["mo_id"] in mos
    for entity in ("profilecode_resource", "service", "slot", "unaccessable_period"):
        for record in getattr(region, entity):
            assert record["resource_id"] in resources, entity
    for slot in region.slot:
        assert slot["mo_id"] == resources[slot["resource_id"]]["mo_id"]
    for referral in region.referral:
        assert referral["to_mo_id"] in mos and referral["from_mo_id"] in mos
        assert referral["from_resource_id"] in resources
        assert referral["to_mo_oid"] == mos[referral["to_mo_id"]]["parent_id"]
        assert referral["from_mo_oid"] == mos[referral["from_mo_id"]]["parent_id"]


@pytest.mark.req("X-4")
def test_each_resource_has_one_profile_and_research_resources_have_services(region: Region) -> None:
    profiles = Counter(p["resource_id"] for p in region.profilecode_resource)
    assert all(profiles[r["id"]] == 1 for r in region.resource)
    services = Counter(s["resource_id"] for s in region.service)
    for resource in region.resource:
        if resource["type"] != "SPECIALIST":
            assert 1 <= services[resource["id"]] <= 2
    assert any(services[r["id"]] for r in region.resource if r["type"] == "SPECIALIST")
    for service in region.service:
        assert re.fullmatch(r"[AB]\d{2}\.\d{2,3}\.\d{3}", service["code"])
        assert "price" not in service or isinstance(service["price"], int | float)


@pytest.mark.req("X-4")
def test_slots_are_unique_per_resource_and_time_within_working_hours(region: Region) -> None:
    assert len({(s["resource_id"], s["visit_time"]) for s in region.slot}) == len(region.slot)
    last_day = START + dt.timedelta(days=13)
    for slot in region.slot:
        visit = dt.datetime.fromisoformat(slot["visit_time"])
        assert START <= visit.date() <= last_day and visit.weekday() < 5
        assert slot["duration"] in (15, 20, 30)
        end = visit + dt.timedelta(minutes=slot["duration"])
        assert visit.hour >= 8 and end <= visit.replace(hour=18, minute=0)
        assert (visit.hour * 60 + visit.minute - 8 * 60) % slot["duration"] == 0


@pytest.mark.req("X-4")
def test_slots_per_resource_and_day_respect_the_requested_count(region: Region) -> None:
    per_day = Counter((s["resource_id"], s["visit_time"][:10]) for s in region.slot)
    assert max(per_day.values()) == 8


@pytest.mark.req("X-4")
def test_slot_tags_and_statuses_are_realistic(region: Region) -> None:
    mos = _by_id(region.mo)
    statuses = Counter(s["status"] for s in region.slot)
    assert set(statuses) == {"AVAILABLE", "RECORDED"}
    assert 0.10 < statuses["RECORDED"] / len(region.slot) < 0.20
    tag_types = Counter(s["tag_type"] for s in region.slot)
    assert tag_types["EPGU"] + tag_types["EPGU,REGISTRY"] > len(region.slot) / 2
    assert tag_types["REFERRAL"] and tag_types["REGISTRY"]
    for slot in region.slot:
        assert slot["tag_age"] in SLOT_AGES[mos[slot["mo_id"]]["tag_age"]]


@pytest.mark.req("X-4")
def test_unaccessable_periods_are_well_formed_and_keep_slots_out(region: Region) -> None:
    assert 0 < len(region.unaccessable_period) < len(region.resource) * 0.12
    times = {(s["resource_id"], s["visit_time"]) for s in region.slot}
    for period in region.unaccessable_period:
        assert "id" not in period
        assert period["reason"] in {"VACATION", "SICK_LEAVE", "FIRED", "REPAIR"}
        assert period["end_date"] > period["beg_date"]
        assert not any(
            resource_id == period["resource_id"] and period["beg_date"] <= visit <= period["end_date"]
            for resource_id, visit in times
        )


@pytest.mark.req("X-4")
def test_referrals_lead_to_a_bookable_profile(region: Region) -> None:
    resources = _by_id(region.resource)
    profiles = {(resources[p["resource_id"]]["mo_id"], p["profile_code"]) for p in region.profilecode_resource}
    codes = {(resources[s["resource_id"]]["mo_id"], s["code"]) for s in region.service}
    for referral in region.referral:
        assert referral["status"] == "AVAILABLE" and GUID.match(referral["patient_id"])
        assert (referral["to_mo_id"], referral["to_profile_code"]) in profiles
        if referral["type"] == "CONSULTATION":
            assert referral["speciality_id"] and referral["to_post_name"]
        else:
            assert referral["type"] == "RESEARCH"
            assert (referral["to_mo_id"], referral["to_service_id"]) in codes
    assert {r["type"] for r in region.referral} == {"CONSULTATION", "RESEARCH"}


@pytest.mark.req("X-4")
def test_empty_region_is_allowed() -> None:
    empty = generate_region(1, mo_count=0, days=0, start=START)
    assert all(not records for _, records in empty.batches()) and not empty.credentials


@pytest.mark.req("X-4")
@pytest.mark.parametrize("kwargs", [{"mo_count": -1}, {"days": -1}, {"mo_count": 9001}])
def test_impossible_regions_are_refused(kwargs: dict[str, int]) -> None:
    arguments = {"seed": 1, "mo_count": 1, "days": 1, "start": START} | kwargs
    with pytest.raises(ValueError):
        generate_region(**arguments)  # type: ignore[arg-type]
