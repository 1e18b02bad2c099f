"""SEMD-4 (the result POSTed to the MIS through the durable delivery engine) and restarts (X-5: nothing lost)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.core.testing import Served, serve_in_thread
from emulators.sample_mis.fhsemd import REST_PATH, SemdMis, rest_app
from tests.fhsemd_support import Fh, contract_errors, read_topic, start_fh, wait_for

pytestmark = [pytest.mark.filterwarnings("ignore:read_text is deprecated"),
              pytest.mark.filterwarnings("ignore:open_text is deprecated")]  # fmt: skip


@pytest.fixture(scope="module")
def mis() -> Iterator[tuple[SemdMis, Served]]:
    state = SemdMis()
    served = serve_in_thread(rest_app(state))
    yield state, served
    served.stop()


@pytest.fixture(scope="module")
def fh(tmp_path_factory: pytest.TempPathFactory, mis: tuple[SemdMis, Served]) -> Iterator[Fh]:
    running = start_fh(tmp_path_factory.mktemp("fhsemd-rest"), **{
        "fhsemd.mis_url": mis[1].url, "fhsemd.rest_max_resends": 1, "fhsemd.rest_interval_seconds": 0.2})  # fmt: skip
    yield running
    running.stop()


def _attempts(fh: Fh, message_id: str) -> list[dict[str, Any]]:
    events = fh.admin("GET", "/journal", params={"operation": "mis.semd.registrationResult"}).json()["events"]
    return [e for e in events if e["attributes"].get("message_id") == message_id]


def _rest_state(fh: Fh, message_id: str, state: str) -> dict[str, Any]:
    def check() -> Any:
        rest = fh.result(message_id, refresh=False)["deliveries"][0]["rest"]
        return rest if rest["state"] == state else None

    return dict(wait_for(check, 15, f"{message_id} {state}"))


@pytest.mark.req("SEMD-4", "X-1", "X-2")
def test_result_posted_to_the_mis_updates_its_document(fh: Fh, mis: tuple[SemdMis, Served]) -> None:
    document = mis[0].submit()
    (item,) = fh.send({"relatesToMessage": document.message_id, "transport": "rest"})
    assert item["transport"] == "rest" and isinstance(item["delivery_id"], int)
    rest = _rest_state(fh, str(item["messageId"]), "delivered")
    assert rest["ack"] == {"status": "success", "errors": []} and rest["attempts"] == 1
    assert mis[0].documents[document.message_id].status == "registered"
    (attempt,) = _attempts(fh, str(item["messageId"]))
    assert attempt["direction"] == "outbound" and attempt["outcome"] == "ok"
    assert attempt["request"]["target"] == mis[1].url + REST_PATH
    sent = fh.result(str(item["messageId"]), refresh=False)["body"]
    assert contract_errors("body", sent) == []
    assert read_topic(fh.bootstrap, 1, within=1) == []  # REST instead of Kafka: nothing on the topic


@pytest.mark.req("SEMD-4")
def test_mis_refusal_is_re_sent_as_the_policy_says_then_dead(fh: Fh, mis: tuple[SemdMis, Served]) -> None:
    (item,) = fh.send({"relatesToMessage": "never-sent-by-this-mis", "transport": "rest"})
    rest = _rest_state(fh, str(item["messageId"]), "dead")
    assert rest["attempts"] == 2  # one POST and rest_max_resends = 1 re-send
    attempts = _attempts(fh, str(item["messageId"]))
    assert [a["outcome"] for a in attempts] == ["http_404", "http_404"]
    assert attempts[0]["response"]["status"] == 404
    assert '"UNKNOWN_MESSAGE"' in attempts[0]["response"]["body"]["text"]


@pytest.mark.req("SEMD-4", "SEMD-6")
def test_poison_over_rest_gets_the_mis_400(fh: Fh, mis: tuple[SemdMis, Served]) -> None:
    (item,) = fh.send({"relatesToMessage": "x", "transport": "rest", "fault": "poison"})
    _rest_state(fh, str(item["messageId"]), "dead")
    assert {a["response"]["status"] for a in _attempts(fh, str(item["messageId"]))} == {400}


@pytest.mark.req("SEMD-4")
def test_an_answer_not_in_the_seed_shape_is_a_violation(tmp_path: Path, fh: Fh) -> None:
    async def wrong(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"OK"})

    served = serve_in_thread(wrong)
    try:
        (item,) = fh.send({"relatesToMessage": "y", "transport": "rest", "url": served.url})
        _rest_state(fh, str(item["messageId"]), "dead")
    finally:
        served.stop()
    attempt = _attempts(fh, str(item["messageId"]))[0]
    assert attempt["outcome"] == "violation" and attempt["violations"][0]["requirement"] == "SEMD-4"


@pytest.mark.req("X-5", "SEMD-5", "SEMD-3")
def test_results_and_broker_data_survive_a_restart(tmp_path: Path) -> None:
    first = start_fh(tmp_path, **{"fhsemd.kafka_port": 0})
    try:
        (item,) = first.send({"relatesToMessage": "req-durable", "document": "doc-durable"})
    finally:
        first.stop()
    again = start_fh(tmp_path)
    try:
        seen = again.result(str(item["messageId"]))
        assert seen["deliveries"][0]["offset"] == item["offset"] and seen["consumed"] is False
        (next_item,) = again.send({"relatesToMessage": "req-durable-2", "document": "doc-durable"})
        assert next_item["partition"] == item["partition"] and next_item["offset"] == int(str(item["offset"])) + 1
        body = again.result(str(next_item["messageId"]), refresh=False)["body"]["registryItem"]
        assert body["documentVersion"] == 2 and body["emdrId"] == seen["body"]["registryItem"]["emdrId"]
        assert len(read_topic(again.bootstrap, 2, within=5)) == 2  # the broker kept the first record
    finally:
        again.stop()
