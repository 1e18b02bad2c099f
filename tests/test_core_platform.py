"""The core hosts any counterpart: registry, component lifecycle, protocol-neutral journal, faults, outbound."""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from emulators.core import registry
from emulators.core.components import BackgroundTask, Health, Periodic, Subprocess
from emulators.core.config import JournalSettings, Settings, load_settings
from emulators.core.emulator import Emulator
from emulators.core.errors import ConfigError
from emulators.core.faults import FaultPlan
from emulators.core.gcpolicy import BetweenRequests
from emulators.core.http import HttpApp, Request, Response, json_response
from emulators.core.journal import Journal, Message, Query, mask_secrets
from emulators.core.outbound import Outbound
from emulators.core.testing import start_in_thread

MEDSTAND = [sys.executable, "-m", "emulators.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- registry ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EchoSettings:
    port: int = 2999
    greeting: str = "привет"


class Echo(Emulator):
    """A minimal counterpart: one HTTP route, built only through the registry."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("echo", settings, ("delay", "status"))
        section: EchoSettings = settings.section("echo")
        app = HttpApp("echo", self.journal, self.faults, _render, _render, 1024)

        async def hello(request: Request) -> Response:
            return json_response({"greeting": section.greeting})

        app.route("GET", "/hello", "echo.hello", hello)
        self.listen(app, section.port)


def _render(request: Request, status: int, message: str, code: str | None) -> Response:
    return json_response({"error": message}, status)


@pytest.fixture
def echo_spec() -> Any:
    spec = registry.register(registry.EmulatorSpec("echo", "a test counterpart", EchoSettings, Echo))
    yield spec
    registry._REGISTRY.pop("echo", None)


def test_a_registered_counterpart_gets_its_settings_section_env_and_builder(
    echo_spec: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDSTAND_ECHO_GREETING", "сәлем")
    settings = load_settings(overrides={"data_dir": str(tmp_path), "echo.port": 0})
    assert settings.echo.greeting == "сәлем" and settings.section("echo").port == 0
    assert registry.spec("echo").default_port == 2999
    running = start_in_thread(echo_spec.build(settings))
    try:
        assert requests.get(f"{running.url}/hello", timeout=5).json() == {"greeting": "сәлем"}
        assert running.emulator.health()["status"] == "ok"
    finally:
        running.stop()


def test_an_unknown_emulator_or_setting_section_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown emulator 'nosuch'"):
        registry.spec("nosuch")
    config = tmp_path / "m.toml"
    config.write_text("[nosuch]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"unknown setting.*nosuch"):
        load_settings(config)


def test_medstand_up_refuses_an_unknown_name_and_a_flag_of_an_unregistered_emulator(tmp_path: Path) -> None:
    unknown = subprocess.run([*MEDSTAND, "up", "nosuch"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert unknown.returncode == 2
    assert "unknown emulator(s) nosuch; registered: fer" in unknown.stderr and "Traceback" not in unknown.stderr
    flag = subprocess.run([*MEDSTAND, "up", "--nosuch-port", "1"], capture_output=True, text=True, timeout=60)
    assert flag.returncode == 2 and "unrecognized arguments: --nosuch-port" in flag.stderr


def test_core_imports_no_counterpart() -> None:
    core = Path(__file__).parents[1] / "emulators" / "core"
    for module in core.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        for name in registry.registered():
            assert f"emulators.{name}" not in text, f"{module.name} imports emulators.{name}"


# -- components ----------------------------------------------------------------------------------------


def test_a_supervised_subprocess_that_dies_turns_health_degraded_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    script = (
        "import socket, sys, time\n"
        f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
        "print('broker ready', flush=True)\n"
        "time.sleep(0.6)\n"
        "print('broker: fatal error, exiting', flush=True)\n"
        "sys.exit(3)\n"
    )
    emulator = Emulator("broker-host", Settings(data_dir=str(tmp_path)))
    child = emulator.add(Subprocess("broker", [sys.executable, "-c", script], tmp_path / "broker.log",
                                    ready_port=("127.0.0.1", port)))  # fmt: skip
    caplog.set_level(logging.ERROR, logger="medstand")
    running = start_in_thread(emulator)
    try:
        assert emulator.health()["status"] == "ok"
        deadline = time.monotonic() + 10
        while child.health().status == "ok" and time.monotonic() < deadline:
            time.sleep(0.05)
        report = emulator.health()
        assert report["status"] == "degraded"
        assert report["components"]["broker"]["status"] == "down"
        assert "exited with code 3" in report["components"]["broker"]["detail"]
        assert "fatal error" in report["components"]["broker"]["detail"]
        assert "broker ready" in (tmp_path / "broker.log").read_text()
        deadline = time.monotonic() + 5
        while "died with exit code 3" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "broker died with exit code 3" in caplog.text
    finally:
        running.stop()


def test_a_subprocess_is_stopped_with_the_emulator(tmp_path: Path) -> None:
    port = free_port()
    script = f"import socket, time\ns = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\ntime.sleep(600)\n"
    emulator = Emulator("host", Settings(data_dir=str(tmp_path)))
    child = emulator.add(Subprocess("sleeper", [sys.executable, "-c", script], tmp_path / "s.log",
                                    ready_port=("127.0.0.1", port), grace=1))  # fmt: skip
    running = start_in_thread(emulator)
    process = child.process
    assert process is not None and process.poll() is None
    running.stop()
    assert process.poll() is not None
    assert child.health().status == "stopped"


def test_a_subprocess_that_never_gets_ready_fails_the_start_clearly(tmp_path: Path) -> None:
    emulator = Emulator("host", Settings(data_dir=str(tmp_path)))
    emulator.add(Subprocess("mute", [sys.executable, "-c", "print('starting'); raise SystemExit(7)"],
                            tmp_path / "m.log", ready_port=("127.0.0.1", free_port())))  # fmt: skip
    with pytest.raises(RuntimeError, match="mute exited with code 7 during start"):
        start_in_thread(emulator)


def test_background_tasks_restart_after_a_failure_and_report_it(tmp_path: Path) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise ValueError("first run fails")
        await asyncio.sleep(3600)

    ticks: list[int] = []

    async def tick() -> None:
        ticks.append(1)
        if len(ticks) == 2:
            raise OSError("pull failed")

    emulator = Emulator("worker", Settings(data_dir=str(tmp_path)))
    task = emulator.add(BackgroundTask("deliveries", flaky, restart_after=0.05))
    periodic = emulator.add(Periodic("pull", 0.05, tick))
    running = start_in_thread(emulator)
    try:
        deadline = time.monotonic() + 5
        while (len(runs) < 2 or len(ticks) < 4) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(runs) == 2 and "ValueError: first run fails" in task.health().detail
        assert task.health().status == "degraded"
        assert periodic.tick_failures == 1 and periodic.health().status == "ok"  # later ticks succeeded
    finally:
        running.stop()


def test_garbage_is_collected_without_any_http_traffic() -> None:
    policy = BetweenRequests(young=1000)
    try:
        kept = [[i] for i in range(5000)]  # young container objects, as a Kafka or delivery worker makes them
        assert gc.get_count()[0] >= 1000
        policy.on_idle()  # the runner calls this every 0.25 s whatever the traffic
        assert gc.get_count()[0] < 1000 and policy.passes == 1 and len(kept) == 5000
    finally:
        policy.uninstall()


# -- journal -------------------------------------------------------------------------------------------


def test_binary_bodies_are_kept_intact_and_shown_as_base64() -> None:
    journal = Journal(JournalSettings())
    pdf = b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n\xff\x00binary"
    event = journal.record(
        emulator="shep", direction="outbound", operation="certificate", request=Message(journal.capture(pdf)),
        response=None, latency_ms=None, attributes={"message_id": "m-1"},
    )  # fmt: skip
    assert event is not None
    shown = event.as_dict()["request"]["body"]
    assert shown["encoding"] == "base64" and base64.b64decode(shown["base64"]) == pdf and shown["size"] == len(pdf)
    text = journal.capture("кириллица".encode()).as_dict()
    assert text == {"text": "кириллица", "size": len("кириллица".encode())}


def test_a_truncated_utf8_body_stays_text() -> None:
    body = Journal(JournalSettings(max_body_bytes=5)).capture("ёжик".encode()).as_dict()
    assert body["truncated"] is True and body["text"] == "ёж" and body["size"] == 8


def test_events_carry_protocol_attributes_and_the_fault_and_filter_by_wildcards() -> None:
    journal = Journal(JournalSettings())
    for outcome, attributes in (("ok", {"topic": "t", "partition": 0, "offset": 7}), ("fault:poison", {"offset": 8})):
        journal.record(
            emulator="fhsemd", direction="produced", operation="result.produce",
            request=Message(journal.capture(b"{}")),
            response=None, latency_ms=1.0, outcome=outcome, attributes=attributes,
            fault={"id": 1, "kind": "poison"} if outcome != "ok" else None,
        )  # fmt: skip
    faulted = journal.find(Query(outcome="fault:*"))
    assert [e.attributes["offset"] for e in faulted] == [8] and faulted[0].fault == {"id": 1, "kind": "poison"}
    assert [e.outcome for e in journal.find(Query(direction="produced", attributes=(("offset", "7"),)))] == ["ok"]


def test_secrets_are_masked_in_json_and_in_bodies_that_are_not_json() -> None:
    keys = frozenset({"password", "Value"})
    masked = orjson.loads(mask_secrets(b'{"username": "1.2.3", "password": "s3cret", "x": [{"Value": "tok"}]}', keys))
    assert masked == {"username": "1.2.3", "password": "***", "x": [{"Value": "***"}]}
    broken = mask_secrets(b'{"username": "1.2.3", "password": "s3cret", ', keys)
    assert b"s3cret" not in broken and b'"password": "***"' in broken


def test_http_journal_masks_the_operations_it_is_told_to() -> None:
    journal = Journal(JournalSettings())
    app = HttpApp("x", journal, FaultPlan(("delay",)), _render, _render, 1024)

    async def login(request: Request) -> Response:
        return json_response({"Result": {"Value": "eyJ.secret.token"}, "IsSuccess": True})

    app.route("POST", "/auth", "auth.token", login)
    app.journal_masks["auth.token"] = frozenset({"password", "Value"})
    emulator = Emulator("x", Settings())
    emulator.journal = journal
    emulator.listen(app, 0)
    running = start_in_thread(emulator)
    try:
        requests.post(f"{running.url}/auth", json={"username": "u", "password": "hunter2"}, timeout=5)
    finally:
        running.stop()
    shown = orjson.dumps(journal.find()[0].as_dict())
    assert b"hunter2" not in shown and b"eyJ.secret.token" not in shown and shown.count(b"***") == 2


def test_an_http_fault_is_named_in_the_event_it_caused() -> None:
    journal = Journal(JournalSettings())
    app = HttpApp("x", journal, FaultPlan(("status", "poison")), _render, _render, 1024)

    async def ok(request: Request) -> Response:
        return json_response({})

    app.route("GET", "/x", "x.get", ok)
    fault = app.faults.add({"kind": "status", "status": 502, "times": 1})
    poison = app.faults.add({"kind": "poison"})  # a message-path kind: the HTTP transport leaves it armed
    emulator = Emulator("x", Settings())
    emulator.journal = journal
    emulator.listen(app, 0)
    running = start_in_thread(emulator)
    try:
        assert requests.get(f"{running.url}/x", timeout=5).status_code == 502
        assert requests.get(f"{running.url}/x", timeout=5).status_code == 200
    finally:
        running.stop()
    first, second = journal.find()
    assert first.outcome == "fault:status" and first.fault == {"id": fault.id, "kind": "status"}
    assert second.fault is None
    assert [f["id"] for f in app.faults.list()] == [poison.id]
    assert [f.kind for f in app.faults.take("kafka.produce", kinds={"poison"})] == ["poison"]


# -- outbound ------------------------------------------------------------------------------------------


def raw_server(answers: list[bytes], keep_open: bool = False) -> tuple[int, list[bytes]]:
    """Answers each connection with the next raw answer; records what it received."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    received: list[bytes] = []

    def serve() -> None:
        for answer in answers:
            connection, _ = listener.accept()
            received.append(connection.recv(65536))
            connection.sendall(answer)
            connection.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], received


def test_outbound_sends_bytes_headers_and_query_and_reads_a_close_delimited_answer() -> None:
    port, received = raw_server([b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<ok>until close</ok>"])
    journal = Journal(JournalSettings())

    async def call() -> Any:
        outbound = Outbound(journal, "shep")
        try:
            return await outbound.call(
                "soap.send", "POST", f"http://127.0.0.1:{port}/svc", 5, content=b"<Envelope/>",
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "SendMessage"},
                params={"wsdl": ""}, attributes={"message_id": "m-9"},
            )  # fmt: skip
        finally:
            await outbound.close()

    reply = asyncio.run(call())
    assert reply.ok and reply.body == b"<ok>until close</ok>" and reply.headers["content-type"] == "text/xml"
    assert received[0].startswith(b"POST /svc?wsdl= HTTP/1.1") and b"SOAPAction: SendMessage" in received[0]
    assert received[0].endswith(b"\r\n\r\n<Envelope/>")
    event = journal.find()[0]
    assert event.attributes == {"message_id": "m-9"} and ("soapaction", "SendMessage") in event.request.headers


def test_outbound_caps_the_answer_size() -> None:
    port, _ = raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000])

    async def call() -> Any:
        outbound = Outbound(Journal(JournalSettings()), "x")
        try:
            return await outbound.call("op", "GET", f"http://127.0.0.1:{port}/", 5, max_response_bytes=1000)
        finally:
            await outbound.close()

    reply = asyncio.run(call())
    assert reply.failure == "too_large" and "1000 bytes" in reply.detail


def closing_keep_alive_server() -> tuple[int, list[bytes]]:
    """Answers a first request and keeps the connection; closes it unanswered when the second arrives
    (as a MIS that closed an idle connection would look); answers on a new connection after that."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        received.append(conn.recv(65536))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        received.append(conn.recv(65536))
        conn.close()
        listener.settimeout(3)
        try:
            again, _ = listener.accept()
        except TimeoutError:
            listener.close()
            return
        received.append(again.recv(65536))
        again.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        again.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], received


def test_a_resend_on_a_stale_keep_alive_connection_is_explicit_and_journaled() -> None:
    port, received = closing_keep_alive_server()
    journal = Journal(JournalSettings())

    async def calls() -> Any:
        outbound = Outbound(journal, "netrika")
        try:
            await outbound.call("cb", "POST", f"http://127.0.0.1:{port}/CDAStatus", 5, json_body={"n": 1})
            return await outbound.call("cb", "POST", f"http://127.0.0.1:{port}/CDAStatus", 5, json_body={"n": 2})
        finally:
            await outbound.close()

    reply = asyncio.run(calls())
    assert reply.ok and reply.attempt == 2
    outcomes = [(e.outcome, e.attributes.get("attempt")) for e in journal.find()]
    assert outcomes == [("ok", None), ("stale_connection", None), ("ok", 2)]
    assert [r.endswith(b'{"n":2}') for r in received] == [False, True, True]  # the POST went out twice, visibly


def test_outbound_never_resends_when_told_not_to() -> None:
    port, received = closing_keep_alive_server()
    journal = Journal(JournalSettings())

    async def calls() -> Any:
        outbound = Outbound(journal, "netrika")
        try:
            await outbound.call("cb", "POST", f"http://127.0.0.1:{port}/x", 5, json_body={})
            return await outbound.call("cb", "POST", f"http://127.0.0.1:{port}/x", 5, json_body={}, resend_stale=False)
        finally:
            await outbound.close()

    reply = asyncio.run(calls())
    assert reply.failure == "stale_connection" and len(journal.find()) == 2 and len(received) == 2


def test_health_reports_components(tmp_path: Path) -> None:
    emulator = Emulator("x", Settings(data_dir=str(tmp_path)))
    emulator.health_checks["storage"] = lambda: Health("degraded", "1 write(s) failed")
    assert emulator.health() == {
        "status": "degraded",
        "components": {"storage": {"status": "degraded", "detail": "1 write(s) failed"}},
    }


def test_a_counterpart_can_add_up_options_that_set_its_section(tmp_path: Path) -> None:
    from emulators import cli

    spec = registry.register(registry.EmulatorSpec(
        "echo", "a test counterpart", EchoSettings, Echo,
        up_options=(registry.UpOption("--greeting", "greeting", "what /hello says"),),
    ))  # fmt: skip
    try:
        args = cli._parser().parse_args(["up", "echo", "--echo-port", "0", "--greeting", "hej",
                                         "--data-dir", str(tmp_path)])  # fmt: skip
        settings = cli._settings(args)
        assert settings.echo == EchoSettings(port=0, greeting="hej") and spec.default_port == 2999
    finally:
        registry._REGISTRY.pop("echo", None)


def test_medstand_up_kafka_bootstrap_points_fhsemd_at_an_existing_cluster(tmp_path: Path) -> None:
    from emulators import cli

    args = cli._parser().parse_args(["up", "fhsemd", "--kafka-bootstrap", "kafka:29092", "--data-dir", str(tmp_path)])
    assert cli._settings(args).fhsemd.kafka_bootstrap == "kafka:29092"


def test_a_taken_port_is_one_clear_line_and_exit_code_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*MEDSTAND, "up", "fer", "--fer-port", str(port), "--data-dir", str(tmp_path)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "medstand: cannot start: Address already in use (is another medstand already running?)" in done.stderr
