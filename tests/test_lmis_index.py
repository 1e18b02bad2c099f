"""LMIS-1, X-4, X-5: the master patient index — uploads by the local MIS, the patient's clinic list, tokens."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.core.datagen import is_valid_enp, is_valid_snils
from emulators.core.formats import is_guid
from emulators.sample_mis.lmis import token_patient
from tests.lmis_support import CLINIC_A, CLINIC_B, Stand, first_patient, running_stand, start_stand


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    yield from running_stand(tmp_path)


def card(mkab_id: str = "M-1", **fields: object) -> dict[str, object]:
    base = {"mkab_id": mkab_id, "last_name": "Иванова", "first_name": "Мария", "middle_name": "Петровна",
            "birth_date": "1980-05-17", "gender": "2", "snils": "112-233-445 95"}  # fmt: skip
    return {**base, **fields}


def register(stand: Stand, clinic_id: str = CLINIC_A, base_url: str = "http://127.0.0.1:9") -> str:
    answer = stand.admin("POST", "/lmis/clinics", json={"clinic_id": clinic_id, "name": "Поликлиника",
                                                        "base_url": base_url})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return str(answer.json()["api_key"])


def upload(stand: Stand, key: str, cards: list[dict[str, object]]) -> dict[str, object]:
    answer = stand.api("POST", "/patients", json={"patients": cards}, headers={"Authorization": f"Bearer {key}"})
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["statusCode"] == answer.status_code
    return dict(body)


@pytest.mark.req("LMIS-1", "X-4")
def test_a_clinic_is_listed_for_a_patient_only_after_its_local_mis_uploaded_the_card(stand: Stand) -> None:
    first = stand.local(CLINIC_A, patients_seed=5)
    second = stand.local(CLINIC_B, "ГБУЗ «Городская поликлиника № 2»", publish=False, patients_seed=5)
    patient_id, mine = first_patient(first)
    assert is_guid(patient_id) and is_valid_snils(mine["snils"]) and is_valid_enp(mine["oms_number"])
    listed = stand.api("GET", f"/patients/{patient_id}/clinics").json()["result"]["clinics"]
    assert [c["clinic_id"] for c in listed] == [CLINIC_A] and listed[0]["mkab_id"] == mine["mkab_id"]
    asyncio.run(second.mis.publish())  # the second clinic's local MIS uploads its cards now
    listed = stand.api("GET", f"/patients/{patient_id}/clinics").json()["result"]["clinics"]
    assert [c["clinic_id"] for c in listed] == [CLINIC_A, CLINIC_B]  # same СНИЛС: one master patient, two cards
    assert set(second.mis.master) == set(first.mis.master)


@pytest.mark.req("LMIS-1")
def test_the_index_matches_cards_by_snils_then_by_oms_and_finds_patients(stand: Stand) -> None:
    key_a, key_b = register(stand, CLINIC_A), register(stand, CLINIC_B)
    first = upload(stand, key_a, [card("A-1", snils="11223344595", oms_number="4576123562645891")])
    by_oms = upload(stand, key_b, [card("B-7", snils=None, oms_number="4576123562645891")])
    patient_id = first["result"]["accepted"][0]["patient_id"]  # type: ignore[index]
    assert by_oms["result"]["accepted"] == [{"mkab_id": "B-7", "patient_id": patient_id}]  # type: ignore[index]
    for query in ({"snils": "112-233-445 95"}, {"oms_number": "4576123562645891"},
                  {"last_name": "иванова", "first_name": "Мария", "birth_date": "1980-05-17"}):  # fmt: skip
        found = stand.api("GET", "/patients", params=query).json()["result"]["patients"]
        assert [p["patient_id"] for p in found] == [patient_id]
    assert stand.api("GET", "/patients", params={"snils": "00000000000"}).json()["result"]["patients"] == []
    assert stand.api("GET", "/patients").status_code == 400
    clinics = stand.api("GET", f"/patients/{patient_id}/clinics").json()["result"]["clinics"]
    assert {c["mkab_id"] for c in clinics} == {"A-1", "B-7"}


@pytest.mark.req("LMIS-1", "X-5")
def test_bad_cards_are_rejected_one_by_one_and_the_good_ones_stored(stand: Stand) -> None:
    key = register(stand)
    cards = [card("ok-1"), card("bad-1", snils="12345678900"), card("bad-2", birth_date="17.05.1980"),
             card("bad-3", snils=None), {"last_name": 5}, "not a card", card("ok-1")]  # fmt: skip
    body = upload(stand, key, cards)
    assert body["isSuccess"] is False and body["statusCode"] == 400
    assert [a["mkab_id"] for a in body["result"]["accepted"]] == ["ok-1"]  # type: ignore[index]
    errors = {e["id"]: e["errorMessage"] for e in body["errors"]}  # type: ignore[union-attr]
    assert errors["bad-1"].startswith("В МКАБ 'bad-1': поле snils")
    assert "birth_date" in errors["bad-2"] and "СНИЛС (snils) или полис ОМС" in errors["bad-3"]
    assert errors[None].startswith("В МКАБ №")  # the cards without an mkab_id are named by position
    assert len(body["errors"]) == 6  # type: ignore[arg-type]
    event = stand.journal("central.patients.upload")[-1]
    assert event["outcome"] == "rejected" and {v["requirement"] for v in event["violations"]} == {"LMIS-1"}


@pytest.mark.req("X-5")
def test_bad_requests_get_a_clear_envelope_never_a_500(stand: Stand) -> None:
    key = register(stand)
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    cases = [
        (b"{not json", auth, 400, "NOT_JSON"),
        (b'{"patients": "x"}', auth, 400, "BAD_REQUEST"),
        (b"[]", auth, 400, "BAD_REQUEST"),
        (b'{"patients": []}', auth, 400, "BAD_REQUEST"),
        (b'{"patients": [{}]}', {**auth, "Content-Type": "text/plain"}, 400, "NOT_JSON"),
        (b'{"patients": [{}]}', {"Content-Type": "application/json"}, 401, "UNAUTHORIZED"),
        (b'{"patients": [{}]}', {**auth, "Authorization": "Bearer nope"}, 401, "UNAUTHORIZED"),
        (b"x" * (1024 * 1024 + 1), auth, 413, "TOO_LARGE"),
        (gzip.compress(b'{"patients": [' + b'{"a": 1},' * 200_000 + b'{}]}'), {**auth, "Content-Encoding": "gzip"},
         413, "TOO_LARGE"),
        (b'{"patients": [' + b"{}," * 1000 + b"{}]}", auth, 413, "TOO_MANY"),
    ]  # fmt: skip
    for raw, headers, status, code in cases:
        answer = stand.http.post(f"{stand.url}/api/v1/patients", data=raw, headers=headers, timeout=30)
        assert answer.status_code == status, (raw[:40], answer.text)
        body = answer.json()
        assert body["isSuccess"] is False and body["error"]["errorCode"] == code, body
    assert stand.api("GET", "/patients/not-a-guid/clinics").status_code == 404
    assert stand.api("POST", "/patients/00000000-0000-4000-8000-000000000000/token").json()["error"]["errorCode"] \
        == "PATIENT_NOT_FOUND"  # fmt: skip
    assert stand.api("GET", "/patients", params={"last_name": "a", "first_name": "b", "birth_date": "x"}).status_code \
        == 400  # fmt: skip
    assert stand.api("DELETE", "/patients").status_code == 405
    assert stand.http.get(f"{stand.url}/nowhere").status_code == 404
    assert not stand.journal("*") or all(e["response"]["status"] != 500 for e in stand.journal("*") if e["response"])


@pytest.mark.req("LMIS-3")
def test_a_patient_token_names_the_patient_and_expires(stand: Stand) -> None:
    key = register(stand)
    patient_id = upload(stand, key, [card()])["result"]["accepted"][0]["patient_id"]  # type: ignore[index]
    answer = stand.api("POST", f"/patients/{patient_id}/token").json()["result"]
    assert answer["patient_id"] == patient_id and answer["valid_to"].endswith("Z")
    assert token_patient(f"Bearer {answer['token']}") == patient_id
    assert stand.central.tokens.verify(answer["token"])["sub"] == patient_id  # type: ignore[index]
    assert stand.central.tokens.verify(answer["token"][:-2] + "xx") is None
    event = stand.journal("central.patients.token")[-1]
    assert answer["token"] not in event["response"]["body"]["text"]  # the journal masks the token


@pytest.mark.req("LMIS-1", "X-5")
def test_what_the_index_acknowledged_survives_a_restart(tmp_path: Path) -> None:
    first = start_stand(tmp_path)
    try:
        key = register(first)
        patient_id = upload(first, key, [card()])["result"]["accepted"][0]["patient_id"]  # type: ignore[index]
    finally:
        first.stop()
    again = start_stand(tmp_path)
    try:
        clinics = again.api("GET", f"/patients/{patient_id}/clinics").json()["result"]["clinics"]
        assert [c["clinic_id"] for c in clinics] == [CLINIC_A]
        assert upload(again, key, [card("M-2", snils="11223344595")])["isSuccess"] is True  # the key still works
    finally:
        again.stop()
