"""X-2 journal, X-3 faults and the admin surface of every emulator (here: FER)."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from emulators.core.config import JournalSettings
from emulators.core.journal import Journal, Query
from tests import fer_data as data
from tests.conftest import Fer


@pytest.mark.req("X-2")
def test_health_names_the_emulator(fer: Fer) -> None:
    body = fer.admin("GET", "/health").json()
    assert body["name"] == "fer" and body["status"] == "ok" and body["version"]


@pytest.mark.req("X-2")
def test_journal_records_every_exchange_with_filters(fer: Fer) -> None:
    fer.post("mo", [data.mo()])
    fer.post("slot", [{"id": "x"}])
    events = fer.admin("GET", "/journal", params={"operation": "*.upsert"}).json()["events"]
    assert [e["operation"] for e in events] == ["mo.upsert", "slot.upsert"]
    rejected = events[1]
    assert rejected["direction"] == "inbound" and rejected["response"]["status"] == 400
    assert rejected["violations"][0]["requirement"].startswith("FER-FLK")
    assert rejected["request"]["headers"]["authorization"].endswith("…")
    assert fer.admin("GET", "/journal", params={"outcome": "rejected"}).json()["count"] == 1
    since = events[0]["id"]
    assert [e["operation"] for e in fer.admin("GET", "/journal", params={"since": since}).json()["events"]] == [
        "slot.upsert"
    ]


@pytest.mark.req("X-2")
def test_wait_blocks_until_the_mis_calls_or_times_out(fer: Fer) -> None:
    threading.Timer(0.3, lambda: fer.post("mo", [data.mo()])).start()
    started = time.monotonic()
    found = fer.admin("GET", "/journal/wait", params={"operation": "mo.upsert", "timeout": 5})
    assert found.status_code == 200 and found.json()["event"]["operation"] == "mo.upsert"
    assert time.monotonic() - started < 4
    missing = fer.admin("GET", "/journal/wait", params={"operation": "book.upsert", "timeout": 0.3})
    assert missing.status_code == 408 and missing.json()["matched"] is False


@pytest.mark.req("X-2")
def test_journal_is_bounded_and_truncates_large_bodies() -> None:
    journal = Journal(JournalSettings(max_events=3, max_body_bytes=10, max_age_seconds=60))
    for i in range(5):
        journal.record(
            emulator="t",
            direction="inbound",
            operation=f"op{i}",
            request=_message(journal, b"x" * 100),
            response=None,
            latency_ms=1.0,
        )
    events = journal.find()
    assert [e.operation for e in events] == ["op2", "op3", "op4"]
    body = events[0].request.body
    assert (
        body.truncated and body.size == 100 and len(body.text) == 10 and (body.digest or "").startswith("blake2b-128:")
    )
    assert journal.wait_for(Query(operation="op4"), within=0.1) is not None


@pytest.mark.req("X-2")
def test_journal_drops_events_older_than_the_age_limit() -> None:
    now = [1000.0]
    journal = Journal(JournalSettings(max_age_seconds=10), clock=lambda: now[0])
    journal.record(
        emulator="t",
        direction="inbound",
        operation="old",
        request=_message(journal, b""),
        response=None,
        latency_ms=None,
    )
    now[0] += 11
    assert journal.find() == []


def _message(journal: Journal, body: bytes):
    from emulators.core.journal import Message

    return Message(journal.capture(body), method="POST", target="/x")


@pytest.mark.req("X-2")
def test_journal_can_be_switched_off(fer: Fer) -> None:
    assert fer.admin("PATCH", "/journal", json={"enabled": False}).json()["enabled"] is False
    fer.post("mo", [data.mo()])
    assert fer.admin("GET", "/journal", params={"operation": "mo.upsert"}).json()["count"] == 0


@pytest.mark.req("X-3")
def test_delay_fault_makes_the_answer_late(fer: Fer) -> None:
    fer.admin("POST", "/faults", json={"kind": "delay", "operation": "mo.get", "delay_ms": 400, "times": 1})
    started = time.monotonic()
    assert fer.get("/api/mo", id="x").status_code == 404
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    fer.get("/api/mo", id="x")
    assert time.monotonic() - started < 0.4  # used up


@pytest.mark.req("X-3")
def test_status_fault_answers_in_the_counterpart_envelope(fer: Fer) -> None:
    fer.admin("POST", "/faults", json={"kind": "status", "status": 500, "operation": "slot.upsert"})
    answer = fer.post("slot", [])
    assert answer.status_code == 500 and answer.json()["error"]["errorMessage"] == "Системная ошибка"
    assert fer.post("mo", [data.mo()]).status_code == 200


@pytest.mark.req("X-3")
def test_drop_fault_closes_the_connection_without_an_answer(fer: Fer) -> None:
    fer.admin("POST", "/faults", json={"kind": "drop", "operation": "mo.upsert", "times": 1})
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{fer.url}/api/mo", json={"data": []}, headers=dict(fer.http.headers))
    assert fer.admin("GET", "/journal", params={"outcome": "dropped"}).json()["count"] == 1
    assert fer.post("mo", [data.mo()]).status_code == 200


@pytest.mark.req("X-3", "FER-AUTH-4")
def test_expire_token_fault(fer: Fer) -> None:
    fer.admin("POST", "/faults", json={"kind": "expire-token", "times": 1})
    assert fer.get("/api/mo", id="x").status_code == 401


@pytest.mark.req("X-3")
@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "explode"},
        {"kind": "delay", "delay_ms": -1},
        {"kind": "status", "status": 42},
        {"kind": "delay", "times": 0},
        {"kind": "delay", "colour": "red"},
        [],
    ],
)
def test_bad_fault_definitions_are_refused(fer: Fer, spec: object) -> None:
    answer = fer.admin("POST", "/faults", json=spec)
    assert answer.status_code == 400 and answer.json()["error"]["message"]


@pytest.mark.req("X-2", "X-3")
def test_reset_and_state(fer: Fer) -> None:
    fer.post("mo", [data.mo()])
    fer.admin("POST", "/faults", json={"kind": "delay", "delay_ms": 1})
    state = fer.admin("GET", "/state").json()
    assert state["showcase"]["mo"] == 1 and len(state["faults"]) == 1
    assert fer.admin("POST", "/reset").status_code == 200
    state = fer.admin("GET", "/state").json()
    assert state["showcase"]["mo"] == 0 and state["faults"] == [] and state["journal"]["events"] == 0


@pytest.mark.req("X-1")
def test_docs_page_and_contracts_are_served(fer: Fer) -> None:
    page = fer.admin("GET", "/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert fer.admin("GET", "/docs/swagger-ui-bundle.js").status_code == 200
    assert fer.admin("GET", "/docs/../../../etc/passwd").status_code == 404
    assert "openapi: 3.0.3" in fer.admin("GET", "/contracts/gateway.yaml").text


def test_docs_answer_with_a_trailing_slash_and_never_the_bundles_stock_page(fer: Fer) -> None:
    for path in ("/docs", "/docs/", "/docs/index.html"):
        page = fer.admin("GET", path)
        assert page.status_code == 200 and "/__admin/contracts/" in page.text, path
        assert "petstore" not in page.text and "validatorUrl: null" in page.text
