"""The durable delivery engine (core.delivery) against real receivers: counts, outcomes, isolation, recovery."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from emulators.core.config import Settings, load_settings
from emulators.core.delivery import DEAD, DELIVERED, DeliveryEngine, Policy, PolicyError, Verdict
from emulators.core.emulator import Emulator
from emulators.core.journal import Query
from emulators.core.outbound import Outbound, Reply
from emulators.core.storage import Database
from emulators.core.testing import Running, start_in_thread
from tests.netrika_support import Receiver, Silent, down_url, fail_then_ack, wait_until

FAST = Policy(max_resends=5, interval_s=0.01, backoff=1.0, timeout_s=0.3)


def echo_check(reply: Reply, message_id: str) -> Verdict:
    try:
        body = orjson.loads(reply.body)
    except orjson.JSONDecodeError:
        return Verdict(False, "invalid_json", "not JSON")
    if body.get("MessageId") != message_id:
        return Verdict(False, "wrong_message_id", "another MessageId")
    return Verdict(True, ack=body)


class Harness(Emulator):
    """Just an engine and its worker, as a counterpart would wire them."""

    def __init__(self, settings: Settings, policy: Policy, per_destination: int = 4) -> None:
        super().__init__("deliverytest", settings)
        self.db = Database(settings.resolved_database_url)
        self.outbound = Outbound(self.journal, self.name)
        self.engine = DeliveryEngine(self.db, self.outbound, "deliverytest", policy, per_destination)
        self.engine.acknowledge_with("Ping", echo_check)
        self.add(self.engine.component())

    def close(self) -> None:
        self.db.close()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    made = Harness(load_settings(overrides={"data_dir": str(tmp_path)}), FAST)
    running = start_in_thread(made)
    yield made
    running.stop()


def settled(engine: DeliveryEngine, delivery_id: int, within: float = 10.0) -> dict[str, Any]:
    return dict(wait_until(lambda: _if_settled(engine.message(delivery_id)), within))


def _if_settled(shown: dict[str, Any] | None) -> dict[str, Any] | None:
    return shown if shown and shown["state"] in (DELIVERED, DEAD) else None


def enqueue(harness: Harness, url: str, destination: str = "site") -> tuple[int, str]:
    message_id = str(uuid.uuid4())
    body = orjson.dumps({"MessageId": message_id})
    headers = {"Content-Type": "application/json"}
    return harness.engine.enqueue(destination, "Ping", url + "/Ping", body, headers, message_id), message_id


@pytest.mark.req("NET-3")
def test_a_receiver_that_never_answers_gets_exactly_six_posts_then_the_message_is_dead(harness: Harness) -> None:
    silent = Silent()
    try:
        delivery_id, _ = enqueue(harness, silent.url)
        shown = settled(harness.engine, delivery_id)
        time.sleep(0.2)
        assert silent.count() == 6
    finally:
        silent.stop()
    assert shown["state"] == DEAD and shown["attempts"] == 6
    assert [a["outcome"] for a in shown["attempt_log"]] == ["timeout"] * 6
    events = harness.journal.find(Query(operation="Ping", direction="outbound"))
    assert [e.attributes["attempt"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert "dead-lettered" in events[-1].notes[-1]


@pytest.mark.req("NET-2", "NET-3")
def test_500_twice_then_an_acknowledgement_is_delivered_on_the_third_post(harness: Harness) -> None:
    receiver = Receiver(fail_then_ack(2)).start()
    try:
        delivery_id, message_id = enqueue(harness, receiver.url)
        shown = settled(harness.engine, delivery_id)
        time.sleep(0.1)
        assert receiver.count() == 3
    finally:
        receiver.stop()
    assert shown["state"] == DELIVERED and shown["attempts"] == 3
    assert [a["outcome"] for a in shown["attempt_log"]] == ["http_500", "http_500", "ok"]
    assert shown["ack"]["MessageId"] == message_id


@pytest.mark.req("NET-2", "NET-3")
def test_a_receiver_that_is_down_is_tried_six_times_and_dead_lettered(harness: Harness) -> None:
    delivery_id, _ = enqueue(harness, down_url())
    shown = settled(harness.engine, delivery_id)
    assert shown["state"] == DEAD
    assert [a["outcome"] for a in shown["attempt_log"]] == ["refused"] * 6
    assert "failed" in shown["last_error"]


@pytest.mark.req("NET-3")
def test_a_dead_site_does_not_hold_up_a_live_one(tmp_path: Path) -> None:
    policy = Policy(max_resends=1, interval_s=0.01, backoff=1.0, timeout_s=2.0)
    harness = Harness(load_settings(overrides={"data_dir": str(tmp_path)}), policy, per_destination=2)
    running: Running = start_in_thread(harness)
    silent, live = Silent(), Receiver().start()
    try:
        for _ in range(6):  # more than the dead site's concurrency: its queue stays full for seconds
            enqueue(harness, silent.url, "dead-site")
        began = time.monotonic()
        ids = [enqueue(harness, live.url, "live-site")[0] for _ in range(20)]
        for delivery_id in ids:
            assert settled(harness.engine, delivery_id, within=5)["state"] == DELIVERED
        assert time.monotonic() - began < 1.5  # not behind the dead site's 2 s timeouts
        assert silent.count() <= 2  # the dead site never had more than its own two in flight
        counts = harness.engine.counts()
        assert counts["live-site"][DELIVERED] == 20 and counts["dead-site"]["sending"] == 2
    finally:
        running.stop()
        silent.stop()
        live.stop()


@pytest.mark.req("NET-3")
def test_a_dead_message_can_be_re_sent_by_hand_for_a_new_round(harness: Harness) -> None:
    receiver = Receiver(fail_then_ack(6)).start()
    try:
        delivery_id, _ = enqueue(harness, receiver.url)
        assert settled(harness.engine, delivery_id)["state"] == DEAD
        assert harness.engine.resend(delivery_id)
        assert not harness.engine.resend(delivery_id)  # pending again: not dead any more
        shown = settled(harness.engine, delivery_id)
        assert receiver.count() == 7
    finally:
        receiver.stop()
    assert shown["state"] == DELIVERED and shown["attempts"] == 7
    assert [a["attempt"] for a in shown["attempt_log"]] == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.req("NET-4")
def test_an_attempt_in_flight_at_a_crash_counts_as_sent(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    settings = load_settings(overrides={"data_dir": str(tmp_path)})
    outbound = Outbound(Harness(settings, FAST).journal, "deliverytest")
    engine = DeliveryEngine(db, outbound, "deliverytest", Policy(max_resends=1, interval_s=0))
    first = engine.enqueue("site", "Ping", "http://127.0.0.1:9/Ping", b"{}", {}, "m1")
    last = engine.enqueue("site", "Ping", "http://127.0.0.1:9/Ping", b"{}", {}, "m2")
    # what a SIGKILL leaves: the attempt committed as in flight, no outcome (m1 on its 1st try, m2 on its last)
    db.execute("UPDATE delivery_message SET state = 'sending', attempts = 1 WHERE id = ?", (first,))
    db.execute("UPDATE delivery_message SET state = 'sending', attempts = 2 WHERE id = ?", (last,))
    for delivery_id, attempt in ((first, 1), (last, 2)):
        db.execute("INSERT INTO delivery_attempt (message, attempt, started_at, outcome) VALUES (?, ?, 0, 'in_flight')",
                   (delivery_id, attempt))  # fmt: skip
    again = DeliveryEngine(db, outbound, "deliverytest", Policy(max_resends=1, interval_s=0))
    shown_first, shown_last = again.message(first), again.message(last)
    assert shown_first is not None and shown_last is not None
    assert shown_first["state"] == "pending" and shown_first["attempts_left"] == 1
    assert shown_first["attempt_log"][0]["outcome"] == "interrupted"
    assert shown_last["state"] == DEAD  # its last POST may have gone out: no third one
    assert again.stats.recovered_in_flight == 2
    db.close()


@pytest.mark.req("NET-3")
def test_policy_is_checked_and_kept_across_restarts(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="max_resends"):
        Policy(max_resends=-1)
    with pytest.raises(PolicyError, match="unknown"):
        Policy.from_dict({"retries": 3})
    with pytest.raises(PolicyError, match="timeout_s"):
        Policy.from_dict({"timeout_s": 0})
    db = Database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    outbound = Outbound(Harness(load_settings(overrides={"data_dir": str(tmp_path)}), FAST).journal, "t")
    engine = DeliveryEngine(db, outbound, "t", Policy())
    engine.set_policy(Policy.from_dict({"max_resends": 2, "interval_s": 1.5}, engine.policy))
    assert DeliveryEngine(db, outbound, "t", Policy()).policy == Policy(max_resends=2, interval_s=1.5)
    assert DeliveryEngine(db, outbound, "other", Policy()).policy == Policy()  # engines keep apart
    engine.reset_policy()
    assert DeliveryEngine(db, outbound, "t", Policy()).policy == Policy()
    stepped = Policy(interval_s=2, backoff=3)
    assert stepped.delay_before(2) == 2 and stepped.delay_before(4) == 18
    db.close()
