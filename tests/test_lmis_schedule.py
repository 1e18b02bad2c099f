"""LMIS-2: the periodic puller caches each local MIS's resources and schedule, and reports failures per clinic."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.core.journal import Query
from tests.lmis_support import CLINIC_A, CLINIC_B, Stand, running_stand, start_stand
from tests.mis_stub import mis_stub


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    yield from running_stand(tmp_path)


def schedule(stand: Stand, clinic_id: str = CLINIC_A, **params: str) -> dict[str, object]:
    answer = stand.api("GET", f"/clinics/{clinic_id}/schedule", params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["result"])


@pytest.mark.req("LMIS-2", "X-1")
def test_a_pull_caches_resources_and_slots_and_the_api_serves_the_cache(stand: Stand) -> None:
    local = stand.local(CLINIC_A, days=2)
    report = stand.pull()[CLINIC_A]
    assert report["last_outcome"] == "ok" and report["resources"] == 3 and report["slots"] == 3 * 2 * 8
    cached = schedule(stand)
    assert cached["stale"] is False and cached["pulled_at"] and cached["last_error"] is None
    resources = cached["resources"]
    assert [r["resource_id"] for r in resources] == [r["resource_id"] for r in local.mis.resources]  # type: ignore[union-attr]
    slots = {s["slot_id"]: s for r in resources for s in r["slots"]}  # type: ignore[union-attr]
    assert slots.keys() == local.mis.slots.keys() and all(s["status"] == "free" for s in slots.values())
    one = resources[0]  # type: ignore[index]
    day = local.mis.start.isoformat()
    narrowed = schedule(stand, resource_id=one["resource_id"], date=day)["resources"]
    assert len(narrowed) == 1 and {s["start"][:10] for s in narrowed[0]["slots"]} == {day}  # type: ignore[index]
    calls = stand.journal("lmis.*")
    assert [e["operation"] for e in calls] == ["lmis.resources"] + ["lmis.schedule"] * 3
    assert all(e["direction"] == "outbound" and e["outcome"] == "success" for e in calls)
    assert f"date_from={dt.date.today().isoformat()}" in calls[1]["request"]["target"]


@pytest.mark.req("LMIS-2")
def test_the_puller_runs_at_the_configured_interval(tmp_path: Path) -> None:
    running = start_stand(tmp_path, **{"lmis.pull_interval_seconds": 0.2})
    try:
        running.local(CLINIC_A, days=1)
        event = running.central.journal.wait_for(Query(operation="lmis.schedule"), within=10)
        assert event is not None  # no admin pull: the Periodic component did it
        deadline = time.monotonic() + 10
        while running.central.cache.report(CLINIC_A)["pulls"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running.central.cache.report(CLINIC_A)["pulls"] >= 2
        health = running.admin("GET", "/health").json()
        assert health["components"]["lmis-schedule-puller"]["ticks"] >= 2
    finally:
        running.stop()


@pytest.mark.req("LMIS-2")
def test_a_local_mis_down_during_a_pull_keeps_the_cache_and_turns_stale(tmp_path: Path) -> None:
    running = start_stand(tmp_path, **{"lmis.stale_after_seconds": 0.5})
    try:
        local = running.local(CLINIC_A, days=1)
        other = running.local(CLINIC_B, "ГБУЗ «Городская поликлиника № 2»", days=1, seed=12)
        assert running.pull()[CLINIC_A]["last_outcome"] == "ok"
        local.stop()  # the local MIS is down: its port refuses connections
        time.sleep(0.6)
        reports = running.pull()
        down = reports[CLINIC_A]
        assert down["last_outcome"] == "transport_error" and down["consecutive_failures"] == 1
        assert down["stale"] is True and down["slots"] == 3 * 8  # the previous cache is still served
        assert reports[CLINIC_B]["last_outcome"] == "ok" and reports[CLINIC_B]["stale"] is False  # per clinic
        cached = schedule(running)
        assert cached["stale"] is True and "connection" in str(cached["last_error"])
        assert len(cached["resources"][0]["slots"]) == 8  # type: ignore[index]
        health = running.admin("GET", "/health").json()
        assert health["status"] == "degraded" and health["components"]["schedules"]["failing"] == [CLINIC_A]
        assert running.journal("lmis.resources")[-2]["outcome"] == "transport_error"
        running.local(CLINIC_A, days=1, port=local.port, publish=False)  # back on the same port
        assert running.pull(CLINIC_A)[CLINIC_A]["last_outcome"] == "ok"
        assert running.admin("GET", "/health").json()["components"]["schedules"]["status"] == "ok"
        other.stop()
    finally:
        running.stop()


@pytest.mark.req("LMIS-2", "X-1")
def test_a_schedule_answer_that_breaks_the_contract_is_a_violation_and_not_cached(stand: Stand) -> None:
    local = stand.local(CLINIC_A, days=1)
    stand.pull()
    local.mis.misbehave.add("bad_schedule")
    report = stand.pull()[CLINIC_A]
    assert report["last_outcome"] == "violation" and report["consecutive_failures"] == 1
    messages = " ".join(v["message"] for v in report["violations"])
    assert {v["requirement"] for v in report["violations"]} == {"LMIS-2"}
    assert "slot_id" in messages and "duration" in messages and "status" in messages
    event = stand.journal("lmis.schedule")[-1]
    assert event["outcome"] == "violation" and event["violations"]
    slots = [s for r in schedule(stand)["resources"] for s in r["slots"]]  # type: ignore[attr-defined]
    assert slots and all(s["slot_id"] == s["slot_id"].lower() for s in slots)  # the good cache stays


@pytest.mark.req("LMIS-2", "X-5")
def test_schedule_reads_refuse_bad_parameters_and_unknown_clinics(stand: Stand) -> None:
    stand.local(CLINIC_A, days=1)
    assert stand.api("GET", "/clinics/nope/schedule").json()["error"]["errorCode"] == "CLINIC_NOT_FOUND"
    assert stand.api("GET", f"/clinics/{CLINIC_A}/schedule", params={"resource_id": "X"}).status_code == 400
    assert stand.api("GET", f"/clinics/{CLINIC_A}/schedule", params={"date": "01.12.2026"}).status_code == 400
    never = schedule(stand)  # registered but not pulled yet
    assert never["stale"] is True and never["pulled_at"] is None and never["resources"] == []
    assert stand.admin("POST", "/lmis/pull", json={"clinic_id": "nope"}).status_code == 404
    assert stand.admin("POST", "/lmis/pull", data=b"[1]").status_code == 400
    assert [c["clinic_id"] for c in stand.api("GET", "/clinics").json()["result"]["clinics"]] == [CLINIC_A]


@pytest.mark.req("LMIS-2", "LMIS-5")
def test_paths_and_field_names_of_a_deployment_are_settings(tmp_path: Path) -> None:
    aliases = "resource_id=doctor_guid,slot_id=slot_guid"
    running = start_stand(tmp_path, **{"lmis.resources_path": "/api/doctors", "lmis.pull_days": 1,
                                       "lmis.schedule_path": "/api/doctors/{resource_id}/slots",
                                       "lmis.field_aliases": aliases})  # fmt: skip
    doctor, slot = "0b1c2d3e-0000-4000-8000-000000000001", "0b1c2d3e-0000-4000-8000-000000000002"
    today = dt.date.today().isoformat()
    try:
        with mis_stub() as mis:
            mis.answer("GET /api/doctors", body={"resources": [{"doctor_guid": doctor, "name": "Петров П. П.",
                                                                "speciality_code": "109"}]})  # fmt: skip
            mis.answer(f"GET /api/doctors/{doctor}/slots?date_from={today}&date_to={today}", body={
                "doctor_guid": doctor, "slots": [{"slot_guid": slot, "doctor_guid": doctor,
                                                  "start": f"{today}T23:59:00", "duration": 15, "status": "free"}]})
            running.admin("POST", "/lmis/clinics", json={"clinic_id": CLINIC_A, "name": "X", "base_url": mis.url})
            assert running.pull()[CLINIC_A]["last_outcome"] == "ok"
        cached = schedule(running)["resources"][0]  # type: ignore[index]
        assert cached["resource_id"] == doctor and cached["slots"][0]["slot_id"] == slot
    finally:
        running.stop()
