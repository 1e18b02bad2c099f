"""scenarios/netrika_callbacks.py certifies a MIS callback service: the reference MIS passes, a broken one fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.core.testing import serve_in_thread
from emulators.sample_mis.netrika import CallbackService
from scenarios import netrika_callbacks
from tests.netrika_support import Receiver, start_netrika, wrong_message_id


@pytest.mark.req("NET-1", "NET-2", "NET-5", "NET-7")
def test_the_reference_mis_passes_every_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    service = CallbackService(f"sqlite:///{tmp_path / 'mis.sqlite3'}", base_path="/back")
    served = serve_in_thread(service.app)
    stand = start_netrika(tmp_path / "netrika")
    try:
        code = netrika_callbacks.main(["--netrika", stand.url, "--mis", served.url + "/back/", "--within", "5"])
        policy = stand.admin("GET", "/netrika/policy").json()
    finally:
        stand.stop()
        served.stop()
        service.close()
    out = capsys.readouterr().out
    assert code == 0, out
    assert "9/9 steps passed" in out and "FAIL" not in out
    assert policy["max_resends"] == 5  # put back


@pytest.mark.req("NET-2")
def test_a_mis_that_echoes_another_message_id_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    receiver = Receiver(wrong_message_id).start()
    stand = start_netrika(tmp_path)
    try:
        code = netrika_callbacks.main(["--netrika", stand.url, "--mis", receiver.url, "--within", "5"])
    finally:
        stand.stop()
        receiver.stop()
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  CDAStatus" in out and "wrong_message_id" in out
