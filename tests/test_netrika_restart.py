"""NET-4: `medstand up netrika` killed with SIGKILL in the middle of re-sends loses no message and sends none
more often than the policy allows."""

from __future__ import annotations

import collections
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from tests.netrika_support import Received, Receiver, Silent, ack, wait_until

MEDSTAND = [sys.executable, "-m", "emulators.cli"]
MESSAGES = 12
FAILURES_BEFORE_ACK = 4  # the flaky site acknowledges each message's 5th POST


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def flaky_per_message() -> Any:
    seen: collections.Counter[str] = collections.Counter()

    def script(request: Received, n: int) -> tuple[int, bytes, float]:
        message_id = request.json()["MessageId"]
        seen[message_id] += 1
        return (500, b"{}", 0.0) if seen[message_id] <= FAILURES_BEFORE_ACK else ack(request, n)

    return script


def start(config: Path, port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen([*MEDSTAND, "up", "netrika", "--config", str(config), "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/__admin/health", timeout=1).status_code == 200:
                return process
        except requests.ConnectionError:
            if process.poll() is not None:
                raise AssertionError(f"medstand exited: {process.stderr.read() if process.stderr else ''}") from None
            time.sleep(0.05)
    process.kill()
    raise AssertionError("medstand up netrika did not come up")


def messages(admin: str) -> list[dict[str, Any]]:
    return list(requests.get(f"{admin}/netrika/messages?limit=1000", timeout=10).json()["messages"])


@pytest.mark.slow
@pytest.mark.req("NET-4", "NET-3")
def test_sigkill_in_the_middle_of_re_sends_loses_nothing_and_sends_nothing_beyond_the_policy(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "medstand.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[netrika]\nport = {port}\nmax_resends = 5\n'
                      "interval_s = 0.25\nbackoff = 1.0\ntimeout_s = 0.25\nper_site_concurrency = 16\n")  # fmt: skip
    admin = f"http://127.0.0.1:{port}/__admin"
    silent, flaky = Silent(), Receiver(flaky_per_message()).start()
    process = start(config, port)
    try:
        for target in (silent.url, flaky.url):
            for _ in range(MESSAGES):
                sent = requests.post(f"{admin}/netrika/send", json={"message_type": "SEMDStatus", "base_url": target},
                                     timeout=10)  # fmt: skip
                assert sent.status_code == 201
        wait_until(lambda: silent.count() >= 2 * MESSAGES and flaky.count() >= 2 * MESSAGES, within=20)
        process.send_signal(signal.SIGKILL)  # mid-retries: each message has had 2 or 3 of its 6 tries
        process.wait(timeout=10)
        killed_at = silent.count(), flaky.count()
        assert killed_at[0] < 6 * MESSAGES and killed_at[1] < (FAILURES_BEFORE_ACK + 1) * MESSAGES
        process = start(config, port)
        wait_until(lambda: all(m["state"] in ("delivered", "dead") for m in messages(admin)), within=30)
        time.sleep(0.5)  # nothing more should arrive
        final = messages(admin)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        silent.stop()
        flaky.stop()
    assert len(final) == 2 * MESSAGES  # none lost
    dead = [m for m in final if m["destination"] == silent.url]
    delivered = [m for m in final if m["destination"] == flaky.url]
    assert all(m["state"] == "dead" and m["attempts"] == 6 for m in dead)
    assert silent.count() <= 6 * MESSAGES  # never more POSTs than the policy allows
    assert all(m["state"] == "delivered" and m["attempts"] <= 6 for m in delivered)
    per_message = collections.Counter(orjson.loads(r.body)["MessageId"] for r in flaky.received)
    by_id = {m["message_id"]: m for m in delivered}
    for message_id, posts in per_message.items():
        assert posts <= by_id[message_id]["attempts"] <= 6  # an attempt cut by the kill counts, sent or not
        assert posts >= FAILURES_BEFORE_ACK + 1  # delivered only once it acknowledged
