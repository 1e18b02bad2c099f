"""SEMD-4 (the result POSTed to the MIS through the durable delivery engine) and restarts (X-5: nothing lost)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.core.testing import Served, serve_in_thread
from emulators.fhsemd.broker import free_port
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


def _up(data_dir: Path, port: int, kafka_port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MEDSTAND_FHSEMD_PORT": str(port), "MEDSTAND_FHSEMD_KAFKA_PORT": str(kafka_port)}
    command = [sys.executable, "-m", "emulators.cli", "up", "fhsemd", "--quiet", "--data-dir", str(data_dir)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def healthy() -> bool:
        with contextlib.suppress(requests.RequestException):
            return bool(requests.get(f"http://127.0.0.1:{port}/__admin/health", timeout=1).json()["status"] == "ok")
        return False

    wait_for(healthy, 30, "medstand up fhsemd")
    return process


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return True
    return False


@pytest.mark.req("X-5", "SEMD-3")
def test_what_was_acknowledged_survives_a_sigkill(tmp_path: Path) -> None:
    """SIGKILL takes medstand and (PR_SET_PDEATHSIG) its broker at once; the broker may lose its last second,
    medstand's own record does not: at the next start every acknowledged result is on the topic again."""
    port, kafka_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    process = _up(tmp_path, port, kafka_port)
    try:
        items = [{"relatesToMessage": f"kill-{n}", "document": "kill-doc"} for n in range(5)]
        answer = requests.post(f"http://127.0.0.1:{port}/__admin/fhsemd/results", json=items, timeout=30)
        assert answer.status_code == 201
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        wait_for(lambda: _refused(kafka_port), 10, "the broker to die with medstand")
    finally:
        if process.poll() is None:
            process.kill()
    sent = [item["messageId"] for item in answer.json()["results"]]
    again = _up(tmp_path, port, kafka_port)
    try:
        for message_id in sent:
            assert requests.get(f"http://127.0.0.1:{port}/__admin/fhsemd/results/{message_id}", timeout=10).ok
        on_topic = [dict(r.headers)["messageId"].decode() for r in read_topic(f"127.0.0.1:{kafka_port}", 5)]
        assert sorted(set(on_topic)) == sorted(sent)
        assert on_topic == sent  # one document: still in order
        health = requests.get(f"http://127.0.0.1:{port}/__admin/health", timeout=10).json()
        rewritten = health["components"]["kafka-recovery"]["rewritten_at_start"]
        assert rewritten in (0, 5)  # 5 when the broker died before saving them (usual: it saves once a second)
    finally:
        again.terminate()
        again.wait(20)
