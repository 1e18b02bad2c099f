"""Storage keeps what it acknowledged: durability tickets, SIGKILL, retries, readers beside the writer; packaging."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.core.storage import BackgroundWriter, Database, RecordLog, StorageError

ROOT = Path(__file__).parents[1]


@pytest.mark.req("X-5")
def test_an_acknowledged_append_survives_sigkill(tmp_path: Path) -> None:
    """A child appends, waits for durability of each append, prints the ticket; SIGKILL right after an ack."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    child = (
        "import asyncio, sys\n"
        "from emulators.core.storage import Database, RecordLog\n"
        f"log = RecordLog(Database({url!r}), 'test.stream')\n"
        "async def main():\n"
        "    for n in range(1, 100000):\n"
        "        ticket = log.append('put', str(n).encode())\n"
        "        await log.durable(ticket)\n"
        "        print(n, flush=True)\n"
        "asyncio.run(main())\n"
    )
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, cwd=ROOT, text=True)
    assert process.stdout is not None
    acknowledged = 0
    for line in process.stdout:
        acknowledged = int(line)
        if acknowledged >= 300:
            os.kill(process.pid, signal.SIGKILL)  # right after the last acknowledgement
            break
    process.wait(timeout=10)
    stored = {int(payload) for _op, payload in RecordLog(Database(url), "test.stream").replay()}
    assert set(range(1, acknowledged + 1)) <= stored


def test_durable_waits_for_the_commit_and_small_writes_do_not_linger() -> None:
    committed: list[list[Any]] = []
    writer = BackgroundWriter("t", committed.append, linger=5.0)  # a long linger: a waiter must cut it short

    async def main() -> float:
        started = time.perf_counter()
        ticket = writer.put("a")
        await writer.durable(ticket)
        return time.perf_counter() - started

    waited = asyncio.run(main())
    writer.close()
    assert waited < 1.0 and committed == [["a"]]


@pytest.mark.req("X-5")
def test_a_failed_write_is_retried_and_then_succeeds() -> None:
    attempts: list[int] = []
    stored: list[Any] = []

    def flaky(batch: list[Any]) -> None:
        attempts.append(len(batch))
        if len(attempts) <= 2:
            raise OSError("disk I/O error")
        stored.extend(batch)

    writer = BackgroundWriter("flaky", flaky, linger=0, retries=(0.01, 0.01, 0.01))

    async def main() -> None:
        await writer.durable(writer.put("x"))

    asyncio.run(main())
    writer.close()
    assert stored == ["x"] and len(attempts) == 3 and writer.failed == 0


@pytest.mark.req("X-5")
def test_a_write_that_keeps_failing_is_reported_to_the_waiter_and_in_health(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    def broken(batch: list[Any]) -> None:
        raise OSError("database or disk is full")

    writer = db.writer("showcase-log", broken, linger=0)
    writer.retries = (0.01, 0.01)

    async def main() -> None:
        await writer.durable(writer.put("x"))

    with pytest.raises(StorageError, match=r"not stored.*disk is full"):
        asyncio.run(main())
    health = db.health()
    assert health.status == "degraded" and "showcase-log: 1 write(s) failed" in health.detail
    writer.close()
    db.close()


def test_a_read_never_waits_behind_the_writer(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    db.ensure_schema(["CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"])
    db.execute("INSERT INTO t VALUES (1, 'before')")
    holding = threading.Event()
    release = threading.Event()

    def slow_commit() -> None:  # a compaction-sized transaction on the writer's own connection
        with db.writer_transaction() as conn:
            conn.execute("INSERT INTO t VALUES (2, 'during')")
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=slow_commit)
    thread.start()
    assert holding.wait(5)
    started = time.perf_counter()
    rows = db.query("SELECT v FROM t ORDER BY k")
    waited = time.perf_counter() - started
    release.set()
    thread.join()
    assert rows == [("before",)] and waited < 0.2
    assert db.query("SELECT v FROM t ORDER BY k") == [("before",), ("during",)]
    db.close()


@pytest.mark.slow
def test_the_wheel_carries_the_contracts_and_starts_from_another_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    wheel = next(wheels.glob("medstand-*.whl"))
    # a new venv holding only the wheel; its dependencies come from this venv's site-packages through a .pth
    # (whose own .pth files, such as the editable install's finder, are not processed from there)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q",
         str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    assert (site / "emulators" / "contracts" / "fer" / "gateway.openapi.yaml").is_file()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MEDSTAND_CONTRACTS", "PYTHONPATH", "VIRTUAL_ENV")}
    check = subprocess.run([str(venv / "bin" / "python"), "-c", "import emulators; print(emulators.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=env, timeout=60)  # fmt: skip
    assert check.stdout.startswith(str(site)), check.stdout + check.stderr
    server = subprocess.Popen(
        [str(venv / "bin" / "medstand"), "up", "fer", "--fer-port", str(port), "--data-dir", str(elsewhere / "d")],
        cwd=elsewhere, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/__admin/health", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout and server.stdout.read()
                time.sleep(0.2)
        assert health.json()["status"] == "ok"
        contract = requests.get(f"http://127.0.0.1:{port}/__admin/contracts/gateway.yaml", timeout=5)
        assert contract.status_code == 200 and b"operationId" in contract.content
    finally:
        server.terminate()
        server.wait(timeout=20)
