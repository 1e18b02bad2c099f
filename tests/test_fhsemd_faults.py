"""SEMD-6 faults on the real broker, and what the reference MIS does with each; bad admin input (X-5)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from tests.fhsemd_support import Fh, Mis, read_topic, start_fh, start_mis, wait_for

pytestmark = [pytest.mark.filterwarnings("ignore:read_text is deprecated"),
              pytest.mark.filterwarnings("ignore:open_text is deprecated")]  # fmt: skip


@pytest.fixture(scope="module")
def fh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fh]:
    running = start_fh(tmp_path_factory.mktemp("fhsemd-faults"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def mis(fh: Fh) -> Iterator[Mis]:
    running = start_mis(fh.bootstrap, "mis-faults")
    yield running
    running.stop()


def _record(fh: Fh, item: dict[str, object]) -> object:
    return next(r for r in read_topic(fh.bootstrap, 10_000, within=3)
                if (r.partition, r.offset) == (item["partition"], item["offset"]))  # fmt: skip


@pytest.mark.req("SEMD-6", "X-3", "SEMD-5")
def test_duplicate_delivery_is_applied_once_by_the_mis(fh: Fh, mis: Mis) -> None:
    document = mis.state.submit()
    first, second = fh.send({"relatesToMessage": document.message_id, "fault": "duplicate"})
    assert first["messageId"] == second["messageId"] and first["offset"] != second["offset"]
    assert first["fault"] == second["fault"] == "duplicate"
    mis.wait_outcome("duplicate", str(first["messageId"]))
    assert mis.state.outcomes.count(("applied", str(first["messageId"]))) == 1
    seen = fh.wait_consumed(str(first["messageId"]))
    assert len(seen["deliveries"]) == 2 and all(d["consumed"] for d in seen["deliveries"])


@pytest.mark.req("SEMD-6", "X-3")
def test_unknown_relates_to_message_is_skipped_and_committed(fh: Fh, mis: Mis) -> None:
    document = mis.state.submit()
    (item,) = fh.send({"relatesToMessage": document.message_id, "fault": "unknown-relates-to"})
    assert item["relatesToMessage"] != document.message_id
    mis.wait_outcome("unknown", str(item["messageId"]))
    assert mis.document_status(document.message_id) == "sent"  # untouched
    assert fh.wait_consumed(str(item["messageId"]))["consumed"] is True


@pytest.mark.req("SEMD-6", "X-3", "X-5")
def test_poison_message_is_logged_and_the_mis_goes_on(fh: Fh, mis: Mis, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="medstand.sample_mis.fhsemd")
    document = mis.state.submit()
    poison, good = fh.send([{"relatesToMessage": "poison-doc", "document": "shared-key", "fault": "poison"},
                            {"relatesToMessage": document.message_id, "document": "shared-key"}])  # fmt: skip
    record = _record(fh, poison)
    with pytest.raises(json.JSONDecodeError):
        json.loads(record.value)  # type: ignore[attr-defined]
    assert dict(record.headers)["messageId"].decode() == poison["messageId"]  # type: ignore[attr-defined]
    wait_for(lambda: mis.document_status(document.message_id) == "registered", 20, "the next result applied")
    assert any("poison" in line.getMessage() for line in caplog.records)
    assert fh.wait_consumed(str(poison["messageId"]))["consumed"] is True
    assert fh.wait_consumed(str(good["messageId"]))["consumed"] is True


@pytest.mark.req("SEMD-6", "X-3")
def test_out_of_order_versions_keep_the_newer(fh: Fh, mis: Mis) -> None:
    document = mis.state.submit()
    newer, older = fh.send({"relatesToMessage": document.message_id, "fault": "out-of-order"})
    assert newer["partition"] == older["partition"] and int(str(newer["offset"])) < int(str(older["offset"]))
    versions = [fh.result(str(w["messageId"]), refresh=False)["body"]["registryItem"]["documentVersion"]
                for w in (newer, older)]  # fmt: skip
    assert versions == [2, 1]
    mis.wait_outcome("stale", str(older["messageId"]))
    assert mis.state.documents[document.message_id].version == 2


@pytest.mark.req("SEMD-6", "X-3")
def test_faults_armed_through_the_admin_api(fh: Fh, mis: Mis) -> None:
    armed = fh.admin("POST", "/faults", json={"kind": "poison", "operation": "semd.result", "times": 1})
    assert armed.status_code == 201, armed.text
    document = mis.state.submit()
    poisoned, clean = fh.send([{"relatesToMessage": document.message_id}, {"relatesToMessage": document.message_id}])
    assert poisoned["fault"] == "poison" and clean["fault"] is None
    wait_for(lambda: mis.document_status(document.message_id) == "registered", 20, "the clean result applied")
    assert fh.admin("GET", "/faults").json()["faults"] == []
    assert fh.admin("POST", "/faults", json={"kind": "delay"}).status_code == 400  # not a Kafka fault


@pytest.mark.req("X-5", "SEMD-3")
@pytest.mark.parametrize("body, needle", [
    (b"{not json", "JSON"),
    (b"[]", "list of 1"),
    (b'"text"', "JSON object"),
    (b'{"status": "success"}', "relatesToMessage"),
    (b'{"relatesToMessage": "x", "status": "maybe"}', "status"),
    (b'{"relatesToMessage": "x", "fault": "fire"}', "fault must be"),
    (b'{"relatesToMessage": "x", "status": "error", "errors": ["NO_SUCH_CODE"]}', "classifier"),
    (b'{"relatesToMessage": "x", "registryItem": {"documentVersion": 0}}', "documentVersion"),
    (b'{"relatesToMessage": "x", "registryItem": {"storeTillDate": "soon"}}', "contract"),
    (b'{"relatesToMessage": "x", "status": "error", "fault": "out-of-order"}', "out-of-order"),
    (b'{"relatesToMessage": "x", "transport": "pigeon"}', "transport"),
    (b'{"relatesToMessage": "x", "transport": "rest"}', "mis_url"),
])  # fmt: skip
def test_bad_requests_get_a_clear_400_and_nothing_is_sent(fh: Fh, body: bytes, needle: str) -> None:
    before = fh.admin("GET", "/state").json()["produced"]
    answer = fh.admin("POST", "/fhsemd/results", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert needle in answer.json()["error"]["message"]
    assert fh.admin("GET", "/state").json()["produced"] == before
