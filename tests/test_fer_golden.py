"""Every seed example of the FER gateway, sent verbatim and compared field for field (FER-ENV-3)."""

from __future__ import annotations

import pytest
import requests

from tests import fer_data as data
from tests.conftest import Fer, golden, golden_text

SLOT_MO = "ab7cbc4b-2e68-40d2-881b-6f957b044818"


def post_verbatim(fer: Fer, entity: str, name: str) -> requests.Response:
    body = golden_text(name).encode("utf-8")
    return fer.http.post(f"{fer.url}/api/{entity}", data=body, headers={"Content-Type": "application/json"})


@pytest.mark.golden
@pytest.mark.req("FER-AUTH-1", "FER-AUTH-3")
def test_seed_auth_example_gets_a_token_in_the_seed_shape(fer: Fer) -> None:
    sent = golden_text("fer/auth.request.json").encode()
    answer = requests.post(f"{fer.url}/auth.svc", data=sent, headers={"Content-Type": "application/json"})
    expected = golden("fer/auth.response.json")
    body = answer.json()
    assert answer.status_code == 200
    assert list(body) == list(expected)
    assert list(body["Result"]) == list(expected["Result"])
    assert body["IsSuccess"] is True and body["ErrorMessage"] == "" and body["StatusCode"] == 200
    assert body["Result"]["ValidTo"].endswith("Z") and len(body["Result"]["ValidTo"]) == 20
    assert body["Result"]["Value"].count(".") == 2  # JWT-shaped like the seed's
    assert body["Result"]["Value"].startswith("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.")


@pytest.mark.golden
@pytest.mark.req("FER-DUP-1", "FER-ENV-3")
def test_seed_mo_name_duplicate(fer: Fer) -> None:
    request = golden("fer/dup_mo_name.request.json")
    owner = request["data"][0]["parent_id"]
    fer.add_mo_credentials(owner)
    fer.login(owner, "pw")
    stored = data.mo(id="6b0aaec1-38ba-4bf2-a82c-39f90b925a78", parent_id=owner, name=request["data"][0]["name"])
    assert fer.post("mo", [stored]).status_code == 200

    answer = post_verbatim(fer, "mo", "fer/dup_mo_name.request.json")

    assert answer.status_code == 422
    assert answer.json() == golden("fer/dup_mo_name.response.json")


def _slot_preconditions(fer: Fer) -> None:
    fer.post("mo", [data.mo(id=SLOT_MO)]).raise_for_status()
    for resource_id in ("1919135c-7c9e-4564-a8b4-29aff7adfe72", "436b6461-effb-4f3c-ad6f-27f4b2c3e578"):
        fer.post("resource", [data.room(SLOT_MO, id=resource_id)]).raise_for_status()


@pytest.mark.golden
@pytest.mark.req("FER-DUP-2", "FER-DUP-3", "FER-ENV-3", "FER-FLK-6")
def test_seed_slot_duplicates_in_request_then_against_the_showcase(fer: Fer) -> None:
    _slot_preconditions(fer)

    first = post_verbatim(fer, "slot", "fer/dup_slot_id_in_request.request.json")
    assert first.status_code == 422
    assert first.json() == golden("fer/dup_slot_id_in_request.response.json")

    second = post_verbatim(fer, "slot", "fer/dup_slot_time.request.json")
    assert second.status_code == 422
    assert second.json() == golden("fer/dup_slot_time.response.json")


@pytest.mark.golden
@pytest.mark.req("FER-FLK-2", "FER-FLK-5")
def test_seed_slot_spellings_are_accepted(fer: Fer) -> None:
    """The seed's slots send duration "20" and create_ts "2023-10-01 09:00:00"; the service accepts them."""
    _slot_preconditions(fer)
    request = golden("fer/dup_slot_time.request.json")
    answer = fer.post("slot", request["data"])
    assert answer.status_code == 200, answer.text
    stored = fer.get("/api/slot", id=request["data"][0]["id"]).json()["result"]
    assert stored["duration"] == 20
    assert stored["create_ts"] == "2023-10-01 09:00:00"
