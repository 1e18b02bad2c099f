"""What a vendor trips over when pointing a MIS at the gateway: each case answers clearly, never a traceback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import time
from pathlib import Path

import pytest
import requests

from emulators import cli
from emulators.core.config import load_settings
from emulators.fer.demo import generate_region
from emulators.fer.settings import SEED_EXAMPLE_PASSWORD, SEED_EXAMPLE_USERNAME, FerSettings
from tests import fer_data as data
from tests.conftest import SEED_OID, Fer

EXAMPLE_TOML = Path(__file__).parent.parent / "contracts" / "fer" / "medstand.example.toml"
LEAKS = ("invalid literal", "isoformat", "surrogates", "Traceback", "line 1 column")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_line_error(capsys: pytest.CaptureFixture[str], code: int, *needles: str) -> None:
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "Traceback" not in err, err
    assert all(needle in err for needle in needles), err


@pytest.mark.req("FER-ENV-1")
def test_a_body_without_data_names_the_expected_shape_once(fer: Fer) -> None:
    answer = fer.http.post(f"{fer.url}/api/slot", json={"x": []})
    message = answer.json()["error"]["errorMessage"]
    assert answer.status_code == 400 and message.endswith('ожидается объект {"data": [...]}') and "{{" not in message


@pytest.mark.req("X-3", "FER-ENV-2")
@pytest.mark.parametrize(("status", "code"), [(418, "418"), (502, "502"), (503, "503"), (429, "429"), (401, "401")])
def test_a_status_fault_answers_that_status_and_code(fer: Fer, status: int, code: str) -> None:
    fer.admin("POST", "/faults", json={"kind": "status", "operation": "slot.upsert", "status": status})
    answer = fer.post("slot", [])
    body = answer.json()
    assert answer.status_code == status and body["statusCode"] == status and body["error"]["errorCode"] == code


@pytest.mark.req("X-3")
def test_a_forced_200_is_a_success_envelope(fer: Fer) -> None:
    fer.admin("POST", "/faults", json={"kind": "status", "operation": "slot.upsert", "status": 200})
    body = fer.post("slot", []).json()
    assert body["isSuccess"] is True and body["error"] is None and body["statusCode"] == 200


@pytest.mark.req("X-5")
def test_error_texts_do_not_leak_python_internals(fer: Fer) -> None:
    surrogate = fer.http.post(f"{fer.url}/api/slot", data=b'{"data": ["\\ud800"', headers={"Content-Type": "application/json"})
    texts = [surrogate.json()["error"]["errorMessage"]]
    texts.append(fer.admin("POST", "/fer/seed", json={"mo": "many"}).json()["error"]["message"])
    texts.append(fer.admin("POST", "/fer/seed", json={"start": "31.12.2024"}).json()["error"]["message"])
    texts.append(fer.admin("GET", "/fer/epgu/slots", params={"age": "old"}).json()["error"]["message"])
    texts.append(fer.admin("GET", "/fer/epgu/slots", params={"date_from": "tomorrow"}).json()["error"]["message"])
    auth = requests.post(f"{fer.url}/auth.svc", data=b'{"username": "\\udc00', headers={"Content-Type": "application/json"})
    texts.append(auth.json()["ErrorMessage"])
    for text in texts:
        assert not any(leak in text for leak in LEAKS), text


@pytest.mark.req("X-2", "FER-FLK-5")
def test_journal_notes_are_english(fer: Fer) -> None:
    mo = data.mo()
    fer.post("mo", [{**mo, "update_ts": "2024-01-01T00:00:00"}]).raise_for_status()
    notes = fer.admin("GET", "/journal", params={"operation": "mo.upsert"}).json()["events"][-1]["notes"]
    assert notes and all(note.isascii() or "«" in note or "ЕПГУ" in note for note in notes)


@pytest.mark.req("FER-API-4")
def test_a_malformed_oid_and_reversed_dates_answer_400_as_the_contract_says(fer: Fer) -> None:
    bad = fer.get("/api/mo/oid/not-an-oid")
    assert bad.status_code == 400 and bad.json()["error"]["errorCode"] == "R-300"
    mo = data.mo()
    room = data.room(mo["id"])
    fer.post("mo", [mo]).raise_for_status()
    fer.post("resource", [room]).raise_for_status()
    reversed_dates = fer.get(f"/api/resourse/{room['id']}/slots", startDate="2024-03-29", endDate="2024-03-28")
    assert reversed_dates.status_code == 400 and "startDate" in reversed_dates.json()["error"]["errorMessage"]


@pytest.mark.req("FER-AUTH-1", "X-2")
def test_passwords_and_tokens_are_never_journaled_in_clear(fer: Fer) -> None:
    token = fer.token()
    event = fer.admin("GET", "/journal", params={"operation": "auth.token"}).json()["events"][-1]
    shown = str(event)
    assert SEED_EXAMPLE_PASSWORD not in shown and token not in shown and token.split(".")[2] not in shown


@pytest.mark.req("X-5")
def test_seed_says_which_records_it_rejected_and_why(fer: Fer) -> None:
    generated = generate_region(3, 2, 1, dt.date.today())
    clash = generated.mo[0]
    fer.add_mo_credentials(clash["parent_id"])
    fer.login(clash["parent_id"], "pw")
    fer.post("mo", [data.mo(parent_id=clash["parent_id"], name=clash["name"])]).raise_for_status()
    answer = fer.admin("POST", "/fer/seed", json={"mo": 2, "days": 1, "seed": 3}).json()
    assert answer["rejected"] >= 1
    rejection = next((r for r in answer["rejections"] if r["id"] == clash["id"]), None)
    assert rejection is not None and rejection["entity"] == "mo" and rejection["code"] == "R-330"
    assert "дублирует" in rejection["reason"]


@pytest.mark.req("X-5")
def test_an_offline_seed_into_a_running_gateways_data_dir_is_refused(fer: Fer, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code = cli.main(["fer", "seed", "--data-dir", str(tmp_path), "--mo", "1", "--days", "1"])
    one_line_error(capsys, code, "in use by a running FER gateway", "--url")


def test_seed_and_sample_mis_against_a_gateway_that_is_not_running(capsys: pytest.CaptureFixture[str]) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    one_line_error(capsys, cli.main(["fer", "seed", "--url", nobody]), "cannot reach the FER gateway")
    code = cli.main(["sample-mis", "--gateway", nobody, "--port", str(free_port())])
    one_line_error(capsys, code, "cannot reach the FER gateway")


def test_the_example_toml_lists_every_fer_key_with_its_default() -> None:
    settings = load_settings(str(EXAMPLE_TOML), {})
    assert settings.section("fer") == FerSettings()
    text = EXAMPLE_TOML.read_text(encoding="utf-8")
    assert all(f"\n{f.name} = " in text for f in dataclasses.fields(FerSettings) if f.name != "credentials")


@pytest.mark.req("FER-FLK-4")
def test_post_id_on_a_room_is_accepted_with_a_journal_note(fer: Fer) -> None:
    mo = data.mo()
    fer.post("mo", [mo]).raise_for_status()
    assert fer.post("resource", [data.room(mo["id"], post_id="110")]).status_code == 200
    notes = fer.admin("GET", "/journal", params={"operation": "resource.upsert"}).json()["events"][-1]["notes"]
    assert any("post_id" in note for note in notes)
    assert fer.post("resource", [data.room(mo["id"], speciality_id="27")]).status_code == 400  # this one is forbidden


@pytest.mark.req("FER-REF-1")
def test_orphans_are_refused_by_default_and_stored_with_a_note_when_switched(fer_factory) -> None:
    strict = fer_factory()
    strict.login()
    orphan = data.room(data.guid())
    assert strict.post("resource", [orphan]).json()["errors"][0]["errorCode"] == "R-200"
    strict.served.stop()
    strict.gateway.close()
    lenient = fer_factory(**{"fer.require_parents": False})
    lenient.login()
    assert lenient.post("resource", [orphan]).status_code == 200
    notes = lenient.admin("GET", "/journal", params={"operation": "resource.upsert"}).json()["events"][-1]["notes"]
    assert any("fer.require_parents" in note for note in notes)
    book = data.book(data.guid())
    assert lenient.post("book", [book]).status_code == 400  # the seed names this error itself (FER-REF-2)


@pytest.mark.req("FER-FLK-2")
def test_the_snils_checksum_is_switchable(fer_factory) -> None:
    strict = fer_factory()
    strict.login()
    mo = data.mo()
    strict.post("mo", [mo]).raise_for_status()
    wrong_checksum = data.specialist(mo["id"], snils="11223344500")
    assert strict.post("resource", [wrong_checksum]).status_code == 400
    strict.served.stop()
    strict.gateway.close()
    lenient = fer_factory(**{"fer.snils_checksum": False})
    lenient.login()
    assert lenient.post("resource", [wrong_checksum]).status_code == 200
    assert lenient.post("resource", [data.specialist(mo["id"], snils="1122334450")]).status_code == 400


@pytest.mark.req("FER-CB-1", "FER-FRESH-1")
def test_the_sample_mis_publishes_again_after_a_reset(fer: Fer) -> None:
    from emulators.sample_mis.mis import SampleMis
    from emulators.sample_mis.run import run_in_thread

    port = free_port()
    mis = SampleMis(fer.url, SEED_EXAMPLE_USERNAME, SEED_EXAMPLE_PASSWORD, f"http://127.0.0.1:{port}", days=2,
                    resend_seconds=0.3)  # fmt: skip
    running = run_in_thread(mis, port=port)
    try:
        assert fer.admin("POST", "/reset").status_code in (200, 204)
        deadline = time.monotonic() + 15
        state = fer.admin("GET", "/state").json()
        while not (state["showcase"]["slot"] and state["webhooks"]) and time.monotonic() < deadline:
            time.sleep(0.2)
            state = fer.admin("GET", "/state").json()
    finally:
        running.stop()
    assert state["showcase"]["mo"] >= 1 and state["showcase"]["slot"] > 0
    assert state["webhooks"][0]["oid"] == SEED_OID and state["webhooks"][0]["address"] == mis.public_url
