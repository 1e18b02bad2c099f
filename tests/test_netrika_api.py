"""The Netrika emulator end to end against real receivers: what counts as delivered, re-sends, sites, policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import requests

from tests.netrika_support import (
    Receiver,
    Silent,
    Stand,
    ack_missing_fields,
    contract_errors,
    down_url,
    fail_then_ack,
    invalid_json,
    late,
    start_netrika,
    wrong_message_id,
)


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    running = start_netrika(tmp_path)
    yield running
    running.stop()


def outcomes(shown: dict[str, object]) -> list[object]:
    return [a["outcome"] for a in shown["attempt_log"]]  # type: ignore[index, union-attr]


@pytest.mark.req("NET-1", "NET-2", "X-1", "X-2")
def test_every_type_is_posted_to_base_slash_type_valid_and_delivered_on_a_correct_ack(stand: Stand) -> None:
    receiver = Receiver().start()
    try:
        stand.admin("POST", "/netrika/sites", json={"site": "mo-1", "base_url": receiver.url + "/back/"})
        ids = {}
        for message_type in ("CDAStatus", "SEMDStatus", "VimisResult"):
            ids[message_type] = stand.send(message_type=message_type, base_url=receiver.url + "/back")["id"]
        for message_type in ("REMDStatus", "MseResult", "MseResultData"):
            ids[message_type] = stand.send(message_type=message_type, site="mo-1")["id"]
        for delivery_id in ids.values():
            assert stand.settled(delivery_id)["state"] == "delivered"
        received = {r.path: r for r in receiver.received}
        acks = stand.admin("GET", "/journal?direction=outbound").json()
    finally:
        receiver.stop()
    for message_type in ids:
        got = received[f"/back/{message_type}"]
        assert contract_errors(message_type, orjson.loads(got.body)) == []
    assert len(acks["events"]) == 6
    for event in acks["events"]:
        assert event["outcome"] == "ok" and event["attributes"]["attempt"] == 1
        assert contract_errors("Ack", orjson.loads(event["response"]["body"]["text"])) == []


@pytest.mark.req("NET-2", "NET-3")
def test_a_receiver_that_never_answers_gets_exactly_six_posts_then_dead(stand: Stand) -> None:
    silent = Silent()
    try:
        shown = stand.settled(stand.send(message_type="CDAStatus", base_url=silent.url)["id"])
        assert silent.count() == 6
    finally:
        silent.stop()
    assert shown["state"] == "dead" and shown["attempts"] == 6 and outcomes(shown) == ["timeout"] * 6
    assert shown["next_attempt_at"] is None and "no complete answer" in shown["last_error"]


@pytest.mark.req("NET-2", "NET-3", "X-2")
def test_500_twice_then_an_ack_is_three_posts_and_delivered(stand: Stand) -> None:
    receiver = Receiver(fail_then_ack(2)).start()
    try:
        sent = stand.send(message_type="SEMDStatus", base_url=receiver.url)
        shown = stand.settled(sent["id"])
        assert receiver.count() == 3
        assert {orjson.loads(r.body)["MessageId"] for r in receiver.received} == {sent["message_id"]}
    finally:
        receiver.stop()
    assert shown["state"] == "delivered" and outcomes(shown) == ["http_500", "http_500", "ok"]
    waited = stand.admin("GET", "/journal/wait?operation=SEMDStatus&outcome=ok&since=0&timeout=1").json()
    assert waited["matched"] and waited["event"]["attributes"]["attempt"] == 3


@pytest.mark.req("NET-2", "NET-3")
@pytest.mark.parametrize(
    ("script", "outcome"),
    [
        (wrong_message_id, "wrong_message_id"),
        (invalid_json, "invalid_json"),
        (ack_missing_fields, "ack_schema"),
        (late(0.6), "timeout"),
    ],
    ids=["wrong-message-id", "invalid-json", "ack-breaks-section-6", "answer-after-timeout"],
)
def test_what_is_not_an_acknowledgement_is_re_sent_until_dead(stand: Stand, script: object, outcome: str) -> None:
    receiver = Receiver(script).start()  # type: ignore[arg-type]
    try:
        shown = stand.settled(stand.send(message_type="VimisResult", base_url=receiver.url)["id"])
        assert receiver.wait_for(6, within=2) and receiver.count() == 6
    finally:
        receiver.stop()
    assert shown["state"] == "dead" and outcomes(shown) == [outcome] * 6
    events = stand.admin("GET", "/journal?operation=VimisResult").json()["events"]
    assert [e["attributes"]["attempt"] for e in events] == [1, 2, 3, 4, 5, 6]
    if outcome != "timeout":
        assert events[0]["violations"][0]["requirement"] == "NET-2"


@pytest.mark.req("NET-2", "NET-3")
def test_a_receiver_that_is_down(stand: Stand) -> None:
    shown = stand.settled(stand.send(message_type="CDAStatus", base_url=down_url())["id"])
    assert shown["state"] == "dead" and outcomes(shown) == ["refused"] * 6


@pytest.mark.req("NET-2")
def test_an_acknowledgement_with_status_failed_is_still_delivered(stand: Stand) -> None:
    def failed_ack(request: object, n: int) -> tuple[int, bytes, float]:
        message_id = orjson.loads(request.body)["MessageId"]  # type: ignore[attr-defined]
        return 200, orjson.dumps({"MessageId": message_id.upper(), "Message": "ошибка", "Status": "Failed"}), 0.0

    receiver = Receiver(failed_ack).start()
    try:
        shown = stand.settled(stand.send(message_type="SEMDStatus", base_url=receiver.url)["id"])
    finally:
        receiver.stop()
    assert shown["state"] == "delivered" and shown["ack"]["Status"] == "Failed"  # MessageId compared ignoring case
    event = stand.admin("GET", "/journal?operation=SEMDStatus").json()["events"][-1]
    assert "Status Failed" in event["notes"][0]


@pytest.mark.req("NET-3")
def test_policy_from_settings_and_admin_changes_how_often_a_message_is_sent(tmp_path: Path) -> None:
    stand = start_netrika(tmp_path, **{"netrika.max_resends": 2})
    receiver = Receiver(fail_then_ack(100)).start()
    try:
        assert stand.admin("GET", "/netrika/policy").json()["max_resends"] == 2
        first = stand.settled(stand.send(message_type="CDAStatus", base_url=receiver.url)["id"])
        assert first["attempts"] == 3
        changed = stand.admin("PUT", "/netrika/policy", json={"max_resends": 0})
        assert changed.status_code == 200 and changed.json()["max_resends"] == 0
        assert changed.json()["interval_s"] == 0.01  # the rest kept
        second = stand.settled(stand.send(message_type="CDAStatus", base_url=receiver.url)["id"])
        assert second["attempts"] == 1
        for bad in ({"max_resends": -1}, {"backoff": 0.5}, {"timeout_s": "10"}, {"retries": 1}, [1]):
            answer = stand.admin("PUT", "/netrika/policy", json=bad)
            assert answer.status_code == 400 and answer.json()["error"]["message"]
        resent = stand.admin("POST", f"/netrika/messages/{second['id']}/resend")
        assert resent.status_code == 200 and resent.json()["state"] in ("pending", "sending", "dead")
        assert stand.settled(second["id"])["attempts"] == 2  # a new round of max_resends + 1 = 1 POST
    finally:
        receiver.stop()
        stand.stop()


@pytest.mark.req("NET-3")
def test_admin_views_state_next_attempt_and_counts_per_site(tmp_path: Path) -> None:
    stand = start_netrika(tmp_path, **{"netrika.interval_s": 30.0})
    receiver = Receiver(fail_then_ack(1)).start()
    try:
        stand.admin("POST", "/netrika/sites", json={"site": "mo-1", "base_url": receiver.url})
        sent = stand.send(message_type="MseResult", site="mo-1")
        receiver.wait_for(1)
        shown = stand.message(sent["id"])
        for _ in range(50):
            if shown["state"] == "pending" and shown["attempts"] == 1:
                break
            shown = stand.message(sent["id"])
        assert shown["state"] == "pending" and shown["next_attempt_at"] and shown["attempts_left"] == 5
        assert shown["last_error"] == "the answer was HTTP 500, not 2xx"
        assert orjson.loads(shown["body"])["MessageId"] == sent["message_id"]
        counts = stand.admin("GET", "/netrika/counts").json()["sites"]
        assert counts["mo-1"]["pending"] == 1
        listed = stand.admin("GET", "/netrika/messages?site=mo-1&state=pending").json()
        assert [m["id"] for m in listed["messages"]] == [sent["id"]]
        assert stand.admin("GET", "/netrika/sites").json()["sites"][0]["messages"]["pending"] == 1
        assert stand.admin("POST", f"/netrika/messages/{sent['id']}/resend").status_code == 409
        assert stand.admin("GET", "/netrika/messages/999").status_code == 404
        assert stand.admin("GET", "/netrika/messages?state=lost").status_code == 400
    finally:
        receiver.stop()
        stand.stop()


@pytest.mark.req("NET-5")
def test_one_unique_address_per_site_and_registered_types_need_a_site(stand: Stand) -> None:
    add = stand.admin("POST", "/netrika/sites", json={"site": "mo-1", "base_url": "http://localhost:9/mis-1/back/"})
    assert add.status_code == 201 and add.json()["base_url"] == "http://localhost:9/mis-1/back"
    same_address = stand.admin(
        "POST", "/netrika/sites", json={"site": "mo-2", "base_url": "HTTP://LOCALHOST:9/mis-1/back"}
    )
    assert same_address.status_code == 409 and "NET-5" in same_address.json()["error"]["message"]
    assert (
        stand.admin("POST", "/netrika/sites", json={"site": "mo-1", "base_url": "http://127.0.0.1:9/other"}).status_code
        == 409
    )
    assert stand.admin("POST", "/netrika/sites", json={"site": "x", "base_url": "ftp://x"}).status_code == 400
    refused = stand.admin(
        "POST", "/netrika/send", json={"message_type": "REMDStatus", "base_url": "http://127.0.0.1:9/x"}
    )
    assert refused.status_code == 400 and "NET-5" in refused.json()["error"]["message"]
    by_registered_url = stand.send(message_type="REMDStatus", base_url="http://localhost:9/mis-1/back")
    assert by_registered_url["destination"] == "mo-1"
    assert by_registered_url["url"] == "http://localhost:9/mis-1/back/REMDStatus"
    assert stand.admin("POST", "/netrika/send", json={"message_type": "MseResult", "site": "nope"}).status_code == 404
    assert stand.admin("DELETE", "/netrika/sites/mo-1").status_code == 200
    assert stand.admin("DELETE", "/netrika/sites/mo-1").status_code == 404


@pytest.mark.req("NET-1", "X-4", "X-5")
def test_send_refuses_what_would_break_the_contract_and_generates_the_rest(stand: Stand) -> None:
    cases = [
        {"message_type": "CDAStatus", "base_url": "http://127.0.0.1:9", "fields": {"IdMedDocument": "1053"}},
        {"message_type": "CDAStatus", "base_url": "http://127.0.0.1:9", "fields": {"CDA": "not base64!"}},
        {"message_type": "CDAStatus", "base_url": "http://127.0.0.1:9", "fields": {"Colour": "red"}},
        {"message_type": "Unknown", "base_url": "http://127.0.0.1:9"},
        {"message_type": "CDAStatus", "base_url": "http://127.0.0.1:9", "status": "Maybe"},
        {"message_type": "CDAStatus"},
        {"message_type": "CDAStatus", "base_url": "http://127.0.0.1:9", "extra": 1},
        {"message_type": "CDAStatus", "base_url": "http://127.0.0.1:9", "fields": []},
    ]
    for body in cases:
        answer = stand.admin("POST", "/netrika/send", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"]["message"]
    assert stand.admin("POST", "/netrika/send", data=b"{not json").status_code == 400
    failed = stand.send(message_type="CDAStatus", base_url="http://127.0.0.1:9", status="Failed")["message"]
    assert "CDA" not in failed and failed["Status"] == "Failed" and failed["Message"].startswith("При формировании")
    dropping = {"message_type": "VimisResult", "base_url": "http://127.0.0.1:9", "fields": {"Lpu": None}}
    required_dropped = stand.admin("POST", "/netrika/send", json=dropping)
    assert required_dropped.status_code == 400 and "Lpu" in required_dropped.json()["error"]["message"]
    stand.admin("POST", "/netrika/sites", json={"site": "s", "base_url": "http://127.0.0.1:9"})
    optional_dropped = stand.send(message_type="REMDStatus", site="s", fields={"RemdRegNumber": None})
    assert "RemdRegNumber" not in optional_dropped["message"]


@pytest.mark.req("NET-7")
def test_the_tables_spelling_can_be_the_default(tmp_path: Path) -> None:
    stand = start_netrika(tmp_path, **{"netrika.vimis_spelling": "table"})
    try:
        message = stand.send(message_type="VimisResult", base_url="http://127.0.0.1:9")["message"]
        assert "IdSourse" in message and "StatusСode" in message
        assert (
            "IdSource"
            in stand.send(message_type="VimisResult", base_url="http://127.0.0.1:9", spelling="example")["message"]
        )
    finally:
        stand.stop()


@pytest.mark.req("X-4")
def test_generated_messages_are_reproducible_from_the_seed(tmp_path: Path) -> None:
    bodies = []
    for run in ("a", "b"):
        stand = start_netrika(tmp_path / run, **{"netrika.seed": 7})
        try:
            types = ("CDAStatus", "VimisResult")
            bodies.append([stand.send(message_type=t, base_url="http://127.0.0.1:9")["message"] for t in types])
        finally:
            stand.stop()
    assert bodies[0] == bodies[1]
    assert bodies[0][0]["MessageId"] == bodies[0][0]["MessageId"].lower()


@pytest.mark.req("X-3")
def test_duplicate_and_poison_faults_on_outgoing_messages(stand: Stand) -> None:
    receiver = Receiver().start()
    try:
        assert stand.admin("POST", "/faults", json={"kind": "duplicate", "operation": "SEMDStatus", "times": 1}).ok
        sent = stand.send(message_type="SEMDStatus", base_url=receiver.url)
        assert stand.settled(sent["id"])["state"] == "delivered"
        assert stand.settled(sent["duplicate_of"])["state"] == "delivered"
        assert [orjson.loads(r.body)["MessageId"] for r in receiver.received] == [sent["message_id"]] * 2
        assert stand.admin("POST", "/faults", json={"kind": "poison", "operation": "CDAStatus", "times": 1}).ok
        poisoned = stand.settled(stand.send(message_type="CDAStatus", base_url=receiver.url)["id"])
    finally:
        receiver.stop()
    assert poisoned["state"] == "dead"  # the strict receiver answers 400 to an unparseable body
    assert {a["status"] for a in poisoned["attempt_log"]} == {400}


def test_reset_forgets_messages_sites_and_policy(stand: Stand) -> None:
    stand.admin("POST", "/netrika/sites", json={"site": "mo-1", "base_url": "http://127.0.0.1:9"})
    stand.admin("PUT", "/netrika/policy", json={"max_resends": 1})
    stand.send(message_type="CDAStatus", base_url="http://127.0.0.1:9/y", delay_s=60)
    assert stand.admin("GET", "/state").json()["messages"]["pending"] == 1
    assert stand.admin("POST", "/reset").status_code == 200
    state = stand.admin("GET", "/state").json()
    assert state["messages"]["pending"] == 0 and state["sites"] == 0 and state["policy"]["max_resends"] == 5
    assert requests.get(stand.url + "/__admin/health", timeout=5).json()["status"] == "ok"
