"""State survives a restart; `medstand up` runs and stops on SIGTERM; `medstand fer seed` loads a region."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from emulators.core.runner import Listener, serve_all
from tests import fer_data as data
from emulators.fer.settings import SEED_EXAMPLE_PASSWORD as SEED_PASSWORD
from tests.conftest import SEED_OID, start_fer, stop_fer

MEDSTAND = [sys.executable, "-m", "emulators.cli"]


@pytest.mark.req("FER-API-1", "X-5")
def test_state_survives_a_restart(tmp_path: Path) -> None:
    first = start_fer(tmp_path)
    first.login()
    mo = data.mo()
    room = data.room(mo["id"])
    slot = data.slot(mo["id"], room["id"])
    for entity, record in (("mo", mo), ("resource", room), ("slot", slot)):
        assert first.post(entity, [record]).status_code == 200
    assert first.delete("slot", slot["id"]).status_code == 200
    token = first.http.headers["Authorization"]
    stop_fer(first)

    second = start_fer(tmp_path)
    second.http.headers["Authorization"] = token  # tokens survive too (the signing key is stored)
    try:
        assert second.get("/api/resource", id=room["id"]).json()["result"]["room_name"] == room["room_name"]
        assert second.get("/api/slot", id=slot["id"]).status_code == 404
        assert second.admin("GET", "/state").json()["log"]["replayed_at_start"] >= 4
    finally:
        stop_fer(second)


@pytest.mark.req("FER-API-1")
def test_log_compaction_keeps_the_state(tmp_path: Path) -> None:
    from emulators.core.config import load_settings
    from emulators.fer.gateway import Gateway

    gateway = Gateway(load_settings(overrides={"data_dir": str(tmp_path)}))
    assert gateway.showcase.log is not None
    gateway.showcase.log.compact_after = 3
    mo = data.mo()
    for _ in range(8):
        gateway.upload("mo", SEED_OID, [dict(mo)])
    gateway.close()
    again = Gateway(load_settings(overrides={"data_dir": str(tmp_path)}))
    assert again.showcase.counts()["mo"] == 1 and again.showcase.log.entries < 8
    again.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_up_help_explains_ports_and_config() -> None:
    out = subprocess.run([*MEDSTAND, "up", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--fer-port" in out and "--config" in out and "2100" in out


def test_up_serves_logs_exchanges_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "medstand.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[fer]\nport = {port}\ntoken_ttl_seconds = 60\n')
    process = subprocess.Popen([*MEDSTAND, "up", "fer", "--config", str(config)], stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/__admin/health")
        requests.get(f"http://127.0.0.1:{port}/api/mo", params={"id": "x"})
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "GET /api/mo?id=x 401 mo.get" in err and "stopped" in err
    assert (tmp_path / "data" / "medstand.sqlite3").exists()


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[fer]\nport = 'x'\n")
    done = subprocess.run([*MEDSTAND, "up", "--config", str(config)], capture_output=True, text=True)
    assert done.returncode == 2 and "configuration error" in done.stderr and "fer.port" in done.stderr


@pytest.mark.req("X-4")
def test_fer_seed_generates_a_reproducible_region_that_passes_every_check(tmp_path: Path) -> None:
    runs = []
    for folder in ("a", "b"):
        done = subprocess.run(
            [*MEDSTAND, "fer", "seed", "--mo", "5", "--days", "3", "--seed", "7", "--start", "2026-01-12",
             "--data-dir", str(tmp_path / folder)],
            capture_output=True, text=True, check=True, env={**os.environ},
        )  # fmt: skip
        runs.append(json.loads(done.stdout))
    assert runs[0] == runs[1]
    assert runs[0]["rejected"] == 0 and runs[0]["loaded"]["mo"] == 5 and runs[0]["loaded"]["slot"] > 0


def _wait_for(url: str, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.mark.req("FER-BK-5", "FER-CN-2")
def test_bookings_and_associations_survive_a_restart(tmp_path: Path) -> None:
    from tests.mis_stub import mis_stub
    from tests.test_fer_booking import booked, region

    first = start_fer(tmp_path)
    first.login()
    places = region(first)
    with mis_stub() as mis:
        first.http.post(f"{first.url}/api/callback", json={"address": mis.url}).raise_for_status()
        booked(mis, places["adult"]["id"], ext_id="5a1f0c3e-2222-4222-8222-000000000002")
        result = first.admin("POST", "/fer/epgu/book", json={"slot_id": places["adult"]["id"]}).json()
        assert result["outcome"] == "success"
        token = first.http.headers["Authorization"]
        stop_fer(first)

        second = start_fer(tmp_path)
        second.http.headers["Authorization"] = token
        try:
            assert second.admin("GET", "/state").json()["bookings"][0]["book_ext_id"] == result["book_ext_id"]
            assocs = second.admin("GET", "/fer/associations").json()["associations_slots"]
            assert assocs == [
                {"slot_id": places["adult"]["id"], "book_ext_id": result["book_ext_id"], "status": "RECORDED"}
            ]
            mis.answer(
                "POST /booking/cancel", body={"book_ext_id": result["book_ext_id"], "status": {"status_code": 0}}
            )
            cancel = second.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": result["book_ext_id"]}).json()
            assert cancel["outcome"] == "success"
        finally:
            stop_fer(second)


def test_the_server_loop_calls_on_idle_periodically_and_survives_its_failure() -> None:
    calls: list[float] = []

    def on_idle() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("first housekeeping call fails")  # logged; the ticker and the server go on

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        return None

    async def main() -> None:
        listeners = [Listener("idle-test", app, "127.0.0.1", 0)]
        serving = asyncio.create_task(serve_all(listeners, on_idle=on_idle, idle_interval=0.02))
        await asyncio.sleep(0.5)
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving

    asyncio.run(main())
    assert len(calls) >= 5


def _up(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*MEDSTAND, "up", "fer", "--quiet", "--config", str(config)],
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


@pytest.mark.req("X-5", "FER-API-1")
def test_every_upload_answered_200_survives_a_sigkill(tmp_path: Path) -> None:
    """A real `medstand up fer`; 60 uploads of 50 slots, each answered 200; SIGKILL right after the last answer."""
    port = free_port()
    config = tmp_path / "medstand.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[fer]\nport = {port}\n')
    url = f"http://127.0.0.1:{port}"
    process = _up(config)
    acknowledged: list[str] = []
    try:
        _wait_for(f"{url}/__admin/health")
        session = requests.Session()
        token = session.post(f"{url}/auth.svc", json={"username": SEED_OID, "password": SEED_PASSWORD}).json()
        session.headers["Authorization"] = f"bearer {token['Result']['Value']}"
        mo = data.mo()
        rooms = [data.room(mo["id"]) for _ in range(6)]
        session.post(f"{url}/api/mo", json={"data": [mo]}).raise_for_status()
        session.post(f"{url}/api/resource", json={"data": rooms}).raise_for_status()
        for batch in range(60):
            room = rooms[batch % len(rooms)]
            slots = [data.slot(mo["id"], room["id"], f"2025-{1 + batch // 10:02d}-{10 + batch % 10}T{8 + i // 60:02d}:{i % 60:02d}:00")
                     for i in range(50)]  # fmt: skip
            answer = session.post(f"{url}/api/slot", json={"data": slots})
            assert answer.status_code == 200, answer.text
            acknowledged += answer.json()["sendedGuids"]
    finally:
        process.kill()  # SIGKILL: no shutdown hook, no flush
        process.communicate(timeout=20)
    restarted = _up(config)
    try:
        _wait_for(f"{url}/__admin/health")
        session.headers["Authorization"] = "bearer " + session.post(
            f"{url}/auth.svc", json={"username": SEED_OID, "password": SEED_PASSWORD}
        ).json()["Result"]["Value"]
        present: set[str] = set()
        for room in rooms:
            listed = session.get(f"{url}/api/resourse/{room['id']}/slots").json()["result"]
            present |= {slot["id"] for slot in listed}
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.communicate(timeout=20)
    assert len(acknowledged) == 3000 and set(acknowledged) <= present, len(set(acknowledged) - present)


def test_a_second_gateway_on_the_same_data_dir_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "medstand.toml"
    first_port, second_port = free_port(), free_port()
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[fer]\nport = {first_port}\n')
    first = _up(config)
    try:
        _wait_for(f"http://127.0.0.1:{first_port}/__admin/health")
        done = subprocess.run([*MEDSTAND, "up", "fer", "--config", str(config), "--fer-port", str(second_port)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=20)
    assert done.returncode == 2 and "in use by a running FER gateway" in done.stderr
    assert "Traceback" not in done.stderr
