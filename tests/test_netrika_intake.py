"""Document intake (NET-6, reconstructed): Reply-To, synchronous acceptance, CDAStatus → SEMDStatus → REMDStatus."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from tests.netrika_support import Receiver, Stand, contract_errors, start_netrika, wait_until

LPU = "20dfadd0-c709-43b0-a130-5a16301b0217"
DOCUMENT = {"IdMedDocumentMis": "idDocumentMis_2125630", "MedDocumentType": 33, "Lpu": LPU, "Patient": {"x": 1}}


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[Stand]:
    running = start_netrika(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def submit(stand: Stand, reply_to: str | None, body: Any = DOCUMENT, **kw: Any) -> requests.Response:
    headers = {"Content-Type": "application/json", **({"Reply-To": reply_to} if reply_to is not None else {})}
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return requests.post(f"{stand.url}/api/documents", data=data, headers={**headers, **kw.pop("headers", {})},
                         timeout=10, **kw)  # fmt: skip


def bodies(receiver: Receiver, count: int) -> dict[str, dict[str, Any]]:
    return {r.path.rsplit("/", 1)[1]: orjson.loads(r.body) for r in receiver.wait_for(count)}


@pytest.mark.req("NET-5", "NET-6", "NET-1")
def test_a_submission_gets_cda_semd_then_remd_at_the_sites_registered_address(stand: Stand, receiver: Receiver) -> None:
    stand.admin("POST", "/netrika/sites", json={"site": "mo-1", "base_url": receiver.url + "/back/", "lpu": [LPU]})
    answer = submit(stand, receiver.url + "/back/")
    assert answer.status_code == 200
    accepted = answer.json()
    assert accepted == {"IdMedDocument": 1053, "IdMedDocumentMis": DOCUMENT["IdMedDocumentMis"], "Status": "Success",
                        "Message": "Документ принят в обработку"}  # fmt: skip
    got = bodies(receiver, 3)
    assert set(got) == {"CDAStatus", "SEMDStatus", "REMDStatus"}
    for message_type, body in got.items():
        assert contract_errors(message_type, body) == []
        assert body["Lpu"] == LPU and body["MedDocumentType"] == 33 and body["Status"] == "Success"
    assert got["CDAStatus"]["IdMedDocument"] == got["SEMDStatus"]["IdMedDocument"] == 1053
    assert got["REMDStatus"]["IdSourceMis"] == DOCUMENT["IdMedDocumentMis"]
    assert got["REMDStatus"]["IdFedRequest"] and got["REMDStatus"]["RemdRegNumber"].isdigit()
    assert base64.b64decode(got["CDAStatus"]["CDA"]).startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert LPU.encode() in base64.b64decode(got["CDAStatus"]["CDA"])
    order = [r.path.rsplit("/", 1)[1] for r in sorted(receiver.received, key=lambda r: r.at)]
    assert order == ["CDAStatus", "SEMDStatus", "REMDStatus"]
    second = submit(stand, receiver.url + "/back/").json()
    assert second["IdMedDocument"] == 1054


@pytest.mark.req("NET-6")
def test_each_step_is_scriptable_and_a_failed_step_ends_the_chain(stand: Stand, receiver: Receiver) -> None:
    script = {"cda": {"delay_s": 0.05}, "semd": {"status": "Failed", "message": "СЭМД не прошёл ФЛК"}, "times": 1}
    assert stand.admin("POST", "/netrika/intake/scripts", json=script).json() == {"waiting": 1}
    assert submit(stand, receiver.url).status_code == 200
    got = bodies(receiver, 2)
    assert got["SEMDStatus"]["Status"] == "Failed" and got["SEMDStatus"]["Message"] == "СЭМД не прошёл ФЛК"
    assert stand.admin("POST", "/netrika/intake/scripts", json={"cda": "Failed"}).status_code == 201
    submit(stand, receiver.url)
    wait_until(lambda: receiver.count() == 3)
    failed = orjson.loads(sorted(receiver.received, key=lambda r: r.at)[-1].body)
    assert failed["Status"] == "Failed" and "CDA" not in failed
    documents = stand.admin("GET", "/netrika/documents").json()["documents"]
    assert [len(d["steps"]) for d in documents] == [1, 2]  # newest first: CDA failed; SEMD failed
    assert stand.admin("GET", "/netrika/intake/scripts").json() == {"scripts": []}
    for bad in ({"cda": "Maybe"}, {"semd": {"delay_s": -1}}, {"x": 1}, {"times": 0}, [1]):
        assert stand.admin("POST", "/netrika/intake/scripts", json=bad).status_code == 400


@pytest.mark.req("NET-5", "NET-6")
def test_without_a_registered_site_remd_status_is_not_sent_and_says_why(stand: Stand, receiver: Receiver) -> None:
    submit(stand, receiver.url)
    receiver.wait_for(2)
    (document,) = stand.admin("GET", "/netrika/documents").json()["documents"]
    assert "NET-5" in document["steps"][2]["skipped"]


@pytest.mark.req("NET-6")
def test_an_update_re_runs_the_chain_for_the_same_document(stand: Stand, receiver: Receiver) -> None:
    submit(stand, receiver.url)
    answer = requests.put(f"{stand.url}/api/documents/1053", json={**DOCUMENT, "IdMedDocumentMis": "v2"},
                          headers={"Reply-To": receiver.url}, timeout=10)  # fmt: skip
    assert answer.status_code == 200 and answer.json()["IdMedDocument"] == 1053
    receiver.wait_for(4)
    assert {orjson.loads(r.body)["IdMedDocumentMis"] for r in receiver.received} == {DOCUMENT["IdMedDocumentMis"], "v2"}
    missing = requests.put(
        f"{stand.url}/api/documents/9", json=DOCUMENT, headers={"Reply-To": receiver.url}, timeout=10
    )
    assert (
        missing.status_code == 404
        and missing.json()["Message"] == "Документ с идентификатором IdMedDocument = 9 не найден"
    )


@pytest.mark.req("NET-6", "X-5")
@pytest.mark.parametrize(
    ("reply_to", "body", "message"),
    [
        (None, DOCUMENT, "Не указан адрес сервиса обратного вызова (заголовок Reply-To)"),
        ("mailto:x@y", DOCUMENT, "Некорректный адрес сервиса обратного вызова в заголовке Reply-To: 'mailto:x@y'"),
        ("http://mis", b"{not json", "Тело запроса не является корректным JSON"),
        ("http://mis", [1, 2], "JSON-описание документа должно быть объектом"),
        ("http://mis", {"MedDocumentType": 33, "Lpu": LPU}, "Не заполнено обязательное поле [IdMedDocumentMis]"),
        (
            "http://mis",
            {**DOCUMENT, "MedDocumentType": "33"},
            "Поле [MedDocumentType] имеет неверный тип данных, ожидается целое число",
        ),
    ],
    ids=["no-reply-to", "bad-reply-to", "not-json", "not-object", "missing-field", "wrong-type"],
)
def test_bad_submissions_get_a_clear_failed_answer(stand: Stand, reply_to: str | None, body: Any, message: str) -> None:
    answer = submit(stand, reply_to, body)
    assert answer.status_code == 400
    assert answer.json() == {"Status": "Failed", "Message": message}
    assert stand.admin("GET", "/state").json()["documents"] == 0


@pytest.mark.req("X-5")
def test_huge_and_gzip_bombed_bodies_are_refused_without_harm(tmp_path: Path) -> None:
    stand = start_netrika(tmp_path, **{"netrika.max_body_bytes": 4096})
    try:
        huge = submit(stand, "http://mis", {**DOCUMENT, "Patient": "x" * 10_000})
        assert huge.status_code == 413 and huge.json()["Status"] == "Failed"
        bomb = gzip.compress(b"{" + b" " * 5_000_000 + b"}")
        bombed = submit(stand, "http://mis", bomb, headers={"Content-Encoding": "gzip"})
        assert bombed.status_code == 413
        assert submit(stand, "http://mis").status_code == 200
    finally:
        stand.stop()


@pytest.mark.req("X-3")
def test_maintenance_fault_on_the_intake(stand: Stand) -> None:
    stand.admin("POST", "/faults", json={"kind": "maintenance", "operation": "intake.*", "times": 1})
    answer = submit(stand, "http://mis")
    assert answer.status_code == 503 and answer.json()["Status"] == "Failed"
    assert submit(stand, "http://mis").status_code == 200
