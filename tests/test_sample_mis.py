"""The gateway and the reference MIS together, on real sockets: the whole booking life cycle."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from emulators.fer.settings import SEED_EXAMPLE_PASSWORD, SEED_EXAMPLE_USERNAME
from emulators.sample_mis.mis import SampleMis
from emulators.sample_mis.run import Running, run_in_thread
from tests.conftest import Fer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def sample(fer: Fer) -> Iterator[Running]:
    port = free_port()
    mis = SampleMis(fer.url, SEED_EXAMPLE_USERNAME, SEED_EXAMPLE_PASSWORD, f"http://127.0.0.1:{port}", days=7)
    running = run_in_thread(mis, port=port)
    yield running
    running.stop()


def book(fer: Fer, **spec: Any) -> dict[str, Any]:
    return dict(fer.admin("POST", "/fer/epgu/book", json=spec).json())


def wait_until(check: Any, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.mark.req("FER-BK-1", "FER-BK-5", "FER-REF-3", "FER-FRESH-1", "FER-CB-1")
def test_book_then_the_mis_uploads_book_and_slot(fer: Fer, sample: Running) -> None:
    state = fer.admin("GET", "/state").json()
    assert state["webhooks"][0]["address"] == sample.mis.public_url and state["showcase"]["slot"] > 0
    result = book(fer)
    assert result["outcome"] == "success", result
    wait_until(lambda: fer.admin("GET", "/state").json()["bookings"][0]["awaiting"] == [])
    stored = fer.get("/api/book", id=result["book_ext_id"]).json()["result"]
    assert stored["tag_source"] == "EPGU" and stored["slot_id"] == result["slot_id"]


@pytest.mark.req("FER-BK-4")
def test_the_mis_answers_from_real_state(fer: Fer, sample: Running) -> None:
    first = book(fer)
    assert first["outcome"] == "success"
    refused = book(fer, slot_id=first["slot_id"])  # FER-BK-6: the gateway itself refuses a booked slot
    assert refused["outcome"] == "rejected" and "FER-BK-6" in refused["message"]
    taken = book(fer, slot_id=first["slot_id"], force=True)  # forced through: the MIS answers from its state
    assert taken["outcome"] == "business_error" and taken["status_code"] == 11
    wrong_age = book(fer, patient={"age_fits": False})
    assert wrong_age["status_code"] == 14 and "возрасту" in wrong_age["user_message"]
    unknown = book(fer, patient={"snils": None, "oms_number": None})
    assert unknown["status_code"] == 17


@pytest.mark.req("FER-CN-1", "FER-CN-2")
def test_cancel_then_cancel_again(fer: Fer, sample: Running) -> None:
    booked = book(fer)
    cancelled = fer.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": booked["book_ext_id"]}).json()
    assert cancelled["outcome"] == "success"
    wait_until(lambda: fer.admin("GET", "/state").json()["bookings"][0]["awaiting"] == [])
    assert fer.get("/api/book", id=booked["book_ext_id"]).json()["result"]["status_code"] == 5010
    again = fer.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": booked["book_ext_id"]}).json()
    assert again["outcome"] == "rejected" and "FER-BK-6" in again["message"]  # refused before calling the MIS
    forced = fer.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": booked["book_ext_id"], "force": True})
    assert forced.json()["outcome"] == "business_error" and forced.json()["status_code"] == 1


@pytest.mark.req("FER-BK-2")
def test_the_sample_mis_can_take_its_time_like_a_real_one(fer: Fer) -> None:
    port = free_port()
    mis = SampleMis(fer.url, SEED_EXAMPLE_USERNAME, SEED_EXAMPLE_PASSWORD, f"http://127.0.0.1:{port}", days=3)
    mis.answer_delay_ms = 300
    running = run_in_thread(mis, port=port)
    try:
        result = book(fer)
    finally:
        running.stop()
    assert result["outcome"] == "success" and result["latency_ms"] >= 300
