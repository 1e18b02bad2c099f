"""ФХ СЭМД over the real embedded broker: produced records, keys and order, the reference MIS consuming with
kafka-python and confluent-kafka, and SEMD-5 telling whether (and how fast) it consumed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fhsemd_support import (
    TOPIC,
    Fh,
    classifier,
    contract_errors,
    read_topic,
    record_errors,
    start_fh,
    start_mis,
    wait_for,
)

# kafka-python 3 loads its protocol schemas with a deprecated importlib.resources call: not ours to fix
pytestmark = [pytest.mark.filterwarnings("ignore:read_text is deprecated"),
              pytest.mark.filterwarnings("ignore:open_text is deprecated")]  # fmt: skip


@pytest.fixture(scope="module")
def fh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fh]:
    running = start_fh(tmp_path_factory.mktemp("fhsemd-kafka"))
    yield running
    running.stop()


def _records_of(fh: Fh, written: list[dict[str, object]]) -> list[object]:
    wanted = {(w["partition"], w["offset"]) for w in written}
    return [r for r in read_topic(fh.bootstrap, 10_000, within=3) if (r.partition, r.offset) in wanted]


@pytest.mark.req("SEMD-1", "SEMD-2", "SEMD-3", "X-1")
def test_results_are_written_where_the_answer_says_and_match_the_contract(fh: Fh) -> None:
    written = fh.send([{"relatesToMessage": "req-ok-1"}, {"relatesToMessage": "req-err-1", "status": "error"}])
    assert [w["relatesToMessage"] for w in written] == ["req-ok-1", "req-err-1"]
    records = {(r.partition, r.offset): r for r in _records_of(fh, written)}
    for item in written:
        record = records[(item["partition"], item["offset"])]
        assert record.topic == TOPIC and record.key == str(item["relatesToMessage"]).encode()
        assert record_errors(record.headers, record.value) == []
        assert dict(record.headers)["messageId"].decode() == item["messageId"]
    bodies = [json.loads(records[(w["partition"], w["offset"])].value) for w in written]
    assert bodies[0]["status"] == "success" and bodies[0]["errors"] == []
    assert bodies[1]["status"] == "error" and "registryItem" not in bodies[1] and bodies[1]["errors"]


@pytest.mark.req("SEMD-3")
def test_generated_registry_item_is_realistic(fh: Fh) -> None:
    (item,) = fh.send({"relatesToMessage": "req-gen-1", "warnings": 2})
    body = fh.result(str(item["messageId"]), refresh=False)["body"]
    registry = body["registryItem"]
    groups = registry["emdrId"].split(".")
    assert len(groups) == 4 and all(g.isdigit() for g in groups)  # the registry's dotted form
    assert registry["documentVersion"] == 1
    assert int(registry["storeTillDate"][:4]) - int(registry["registrationDate"][:4]) == 25
    assert registry["registrationDateTime"].endswith("Z") and len(registry["registrationDateTime"]) == 24
    known = classifier()
    assert len(registry["registrationWarnings"]) == 2
    for warning in registry["registrationWarnings"]:
        assert known[warning["code"]]["description"] == warning["message"]


@pytest.mark.req("SEMD-3")
def test_errors_come_verbatim_from_the_remd_classifier(fh: Fh) -> None:
    written = fh.send([{"relatesToMessage": f"req-e-{n}", "status": "error"} for n in range(20)]
                      + [{"relatesToMessage": "req-e-x", "status": "error", "errors": ["NO_SNILS"]}])  # fmt: skip
    known = classifier()
    for item in written:
        for error in fh.result(str(item["messageId"]), refresh=False)["body"]["errors"]:
            assert known[error["code"]]["description"] == error["message"]
            assert known[error["code"]]["contour"] == "регистрация СЭМД"
    last = fh.result(str(written[-1]["messageId"]), refresh=False)["body"]["errors"]
    assert last == [{"code": "NO_SNILS", "message": known["NO_SNILS"]["description"]}]


@pytest.mark.req("SEMD-3")
def test_one_documents_results_share_a_partition_in_order(fh: Fh) -> None:
    written = fh.send([{"relatesToMessage": f"req-v{n}", "document": "doc-42"} for n in range(5)])
    assert len({w["partition"] for w in written}) == 1
    offsets = [int(str(w["offset"])) for w in written]
    assert offsets == sorted(offsets)
    versions = [fh.result(str(w["messageId"]), refresh=False)["body"]["registryItem"] for w in written]
    assert [v["documentVersion"] for v in versions] == [1, 2, 3, 4, 5]
    assert len({v["emdrId"] for v in versions}) == 1  # one document, one registry number


@pytest.mark.req("SEMD-2", "X-1")
def test_envelope_framing_puts_header_and_body_in_one_json(fh: Fh) -> None:
    (item,) = fh.send({"relatesToMessage": "req-env-1", "framing": "envelope"})
    (record,) = _records_of(fh, [item])
    assert not record.headers
    assert record_errors(None, record.value) == []
    assert json.loads(record.value)["header"]["messageId"] == item["messageId"]


@pytest.mark.req("SEMD-5", "X-2")
@pytest.mark.parametrize("client", ["kafka-python", "confluent"])
def test_reference_mis_consumes_and_semd5_reports_it(fh: Fh, client: str) -> None:
    mis = start_mis(fh.bootstrap, f"mis-{client}", client)
    try:
        document = mis.state.submit("Протокол консультации")
        (item,) = fh.send({"relatesToMessage": document.message_id})
        assert fh.result(str(item["messageId"]), refresh=False)["deliveries"][0]["offset"] == item["offset"]
        wait_for(lambda: mis.document_status(document.message_id) == "registered", 20, "the document registered")
        seen = fh.wait_consumed(str(item["messageId"]))
    finally:
        mis.stop()
    assert seen["consumed"] is True and 0 <= seen["consumed_after_ms"] < 20_000
    assert f"mis-{client}" in seen["deliveries"][0]["consumed_by"]
    assert mis.state.documents[document.message_id].emdr_id == seen["body"]["registryItem"]["emdrId"]

    def events(direction: str) -> list[dict[str, object]]:
        params = {"direction": direction, "attr.message_id": str(item["messageId"])}
        return list(fh.admin("GET", "/journal", params=params).json()["events"])

    consumed, produced = events("consumed"), events("produced")
    assert len(consumed) == 1 and len(produced) == 1
    waited = fh.admin("GET", "/journal/wait", params={"direction": "consumed", "attr.message_id": item["messageId"],
                                                       "since": "0", "timeout": "5"})  # fmt: skip
    assert waited.status_code == 200 and waited.json()["event"]["id"] == consumed[0]["id"]
    for event in consumed + produced:
        attributes = event["attributes"]
        assert attributes["topic"] == TOPIC and attributes["offset"] == item["offset"]
        assert attributes["partition"] == item["partition"] and attributes["key"] == document.message_id


@pytest.mark.req("SEMD-5")
def test_a_result_nobody_committed_is_not_consumed(fh: Fh) -> None:
    (item,) = fh.send({"relatesToMessage": "req-nobody"})
    seen = fh.result(str(item["messageId"]))
    assert seen["consumed"] is False and seen["consumed_after_ms"] is None
    assert fh.admin("GET", "/fhsemd/results/no-such-id").status_code == 404


@pytest.mark.req("SEMD-5")
def test_existing_cluster_and_watched_groups(fh: Fh, tmp_path: Path) -> None:
    """kafka_bootstrap uses a running cluster (no broker started); watched_groups limits whose commits count."""
    other = start_fh(tmp_path, **{"fhsemd.kafka_bootstrap": fh.bootstrap, "fhsemd.watched_groups": "audit"})
    mis = start_mis(fh.bootstrap, "mis-not-watched")
    try:
        assert other.emulator.broker is None
        assert "kafka-broker" not in other.admin("GET", "/health").json()["components"]
        document = mis.state.submit()
        (item,) = other.send({"relatesToMessage": document.message_id})
        wait_for(lambda: mis.document_status(document.message_id) == "registered", 20, "the document registered")
        wait_for(lambda: "mis-not-watched" in fh.admin("GET", "/fhsemd/groups").json()["groups"], 10, "the commit")
        assert other.result(str(item["messageId"]))["consumed"] is False  # only "audit" counts
        groups = other.admin("GET", "/fhsemd/groups").json()
        assert groups["watched"] == ["audit"] and "mis-not-watched" not in groups["groups"]
    finally:
        mis.stop()
        other.stop()


@pytest.mark.req("SEMD-2", "X-1")
def test_health_and_state_name_the_broker(fh: Fh) -> None:
    health = fh.admin("GET", "/health").json()
    assert health["status"] == "ok"
    assert health["components"]["kafka"]["idempotent"] is True
    state = fh.admin("GET", "/state").json()
    assert state["bootstrap"] == fh.bootstrap and state["embedded_broker"] is True and state["framing"] == "headers"
    assert contract_errors("header", {"messageType": "X"})  # the checker itself refuses a bad header
