"""The reference MIS's Netrika callback service: stores, acknowledges correctly, idempotent on MessageId."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from emulators.core.testing import Served, serve_in_thread
from emulators.netrika.messages import MESSAGE_TYPES
from emulators.sample_mis.netrika import CallbackService
from tests.netrika_support import Stand, start_netrika


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Stand, CallbackService, Served]]:
    service = CallbackService(f"sqlite:///{tmp_path / 'mis.sqlite3'}", base_path="/back")
    served = serve_in_thread(service.app)
    stand = start_netrika(tmp_path / "netrika")
    stand.admin("POST", "/netrika/sites", json={"site": "mo-1", "base_url": served.url + "/back/"})
    yield stand, service, served
    stand.stop()
    served.stop()
    service.close()


@pytest.mark.req("NET-1", "NET-2", "NET-5")
def test_every_message_type_is_acknowledged_and_stored_once(pair: tuple[Stand, CallbackService, Served]) -> None:
    stand, service, _ = pair
    sent = [stand.send(message_type=t, site="mo-1") for t in MESSAGE_TYPES]
    for item in sent:
        assert stand.settled(item["id"])["state"] == "delivered"
    stored = service.messages()
    assert [m["message_type"] for m in stored] == list(MESSAGE_TYPES)
    assert {m["message_id"] for m in stored} == {s["message_id"] for s in sent}
    assert all(stand.message(s["id"])["ack"]["Message"] == "Сообщение принято успешно" for s in sent)


@pytest.mark.req("NET-2", "X-3")
def test_a_re_sent_message_is_acknowledged_again_and_not_stored_twice(
    pair: tuple[Stand, CallbackService, Served],
) -> None:
    stand, service, _ = pair
    stand.admin("POST", "/faults", json={"kind": "duplicate", "operation": "CDAStatus", "times": 1})
    sent = stand.send(message_type="CDAStatus", site="mo-1")
    assert stand.settled(sent["id"])["state"] == stand.settled(sent["duplicate_of"])["state"] == "delivered"
    (stored,) = service.messages()
    assert stored["times_received"] == 2


@pytest.mark.req("NET-7")
def test_the_tables_spelling_is_read_like_the_examples(pair: tuple[Stand, CallbackService, Served]) -> None:
    stand, service, _ = pair
    sent = stand.send(message_type="VimisResult", site="mo-1", spelling="table")
    assert stand.settled(sent["id"])["ack"]["Status"] == "Success"
    (stored,) = service.messages()
    assert "IdSource" in stored["message"] and "StatusCode" in stored["message"]


@pytest.mark.req("X-5")
def test_what_it_cannot_acknowledge_and_what_breaks_the_contract(pair: tuple[Stand, CallbackService, Served]) -> None:
    _, service, served = pair
    assert requests.post(f"{served.url}/back/CDAStatus", data=b"{", timeout=5).status_code == 400
    assert requests.post(f"{served.url}/back/CDAStatus", json={"x": 1}, timeout=5).status_code == 400
    broken = requests.post(f"{served.url}/back/SEMDStatus", json={"MessageId": "m-1", "Status": "Success"}, timeout=5)
    assert broken.status_code == 200
    assert broken.json()["MessageId"] == "m-1" and broken.json()["Status"] == "Failed"
    assert service.messages() == []
    listed = requests.get(f"{served.url}/__sample/messages", timeout=5).json()
    assert listed == {"messages": []}


def test_the_command_is_offered() -> None:
    done = subprocess.run([sys.executable, "-m", "emulators.cli", "sample-mis", "netrika-callbacks", "--help"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert "--port" in done.stdout and "3200" in done.stdout
