"""SHEP-3/4/6/7 and X-4: search rules with the ИИН checksum, the three statuses, not found, generated data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from random import Random

import pytest

from emulators.core.datagen import is_valid_iin, make_iin
from tests.shep_support import Stand, assert_valid, data_of, envelope, our_schema, payload, reference_schema, start_shep

IIN = "850315300128"  # the seed example's patient (reconstructed)


@pytest.fixture(scope="module")
def stand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stand]:
    running = start_shep(tmp_path_factory.mktemp("shep-search"))
    for number, status, extra in (
        ("T-ACTUAL", "UP_TO_DATE", {}),
        ("T-OLD", "NOT_UP_TO_DATE", {"end_date": "2025-06-30"}),
        ("T-REVOKED", "REVOKED", {"revocation_reason": "Отозван по заявлению пациента"}),
    ):
        body = {"number": number, "iin": "900101400013", "status": status, "procedure": "102", **extra}
        assert running.admin("POST", "/shep/exemptions", json=body).status_code == 201
    passport = {"number": "T-PASS", "passportNumber": "N1234567", "citizenshipCode": "643", "status": "UP_TO_DATE"}
    assert running.admin("POST", "/shep/exemptions", json=passport).status_code == 201
    yield running
    running.stop()


def status(stand: Stand, data: str) -> tuple[str, str, list[str]]:
    answer = stand.post(envelope(data))
    assert answer.status_code == 200, answer.text
    found = data_of(answer)
    assert payload(answer).findtext("response/responseInfo/status/code") == "SUCCESS"
    numbers = [item.findtext("number") or "" for item in found.findall("medicalExemptionList")]
    return found.findtext("status/code") or "", found.findtext("status/message") or "", numbers


@pytest.mark.req("SHEP-3")
@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("", "Не заполнены параметры поиска"),
        ("<citizenshipCode>643</citizenshipCode>", "Не заполнены параметры поиска"),
        ("<passportNumber>N1234567</passportNumber>", "«Гражданство» обязательно"),
        ("<iin>85031530012</iin>", "12 цифр"),
        ("<iin>85031530012X</iin>", "12 цифр"),
        ("<iin>850315300127</iin>", "контрольный разряд"),
    ],
)
def test_invalid_search_parameters(stand: Stand, data: str, fragment: str) -> None:
    code, message, numbers = status(stand, data)
    assert code == "VALIDATION_ERROR" and fragment in message and numbers == []


@pytest.mark.req("SHEP-3")
def test_data_must_be_a_medical_exemption_search_request(stand: Stand) -> None:
    untyped = envelope("<number>01085</number>").replace(' xsi:type="ns5:MedicalExemptionSearchRequest"', "")
    data = data_of(stand.post(untyped))
    assert data.findtext("status/code") == "VALIDATION_ERROR" and "xsi:type" in (data.findtext("status/message") or "")
    other_type = stand.post(envelope("<number>01085</number>", xsi_type="ns5:MedicalExemptionSearchResponse"))
    assert other_type.status_code == 500 and b"VALIDATION_ERROR" in other_type.content  # the XSD refuses it


@pytest.mark.req("SHEP-3", "SHEP-4")
def test_search_by_each_criterion(stand: Stand) -> None:
    assert status(stand, "<number>01085</number>")[2] == ["01085"]
    assert status(stand, f"<iin>{IIN}</iin>")[2] == ["01085"]
    assert status(stand, "<iin>900101400013</iin>")[2] == ["T-ACTUAL", "T-OLD", "T-REVOKED"]
    by_passport = "<passportNumber>N1234567</passportNumber><citizenshipCode>643</citizenshipCode>"
    assert status(stand, by_passport)[2] == ["T-PASS"]
    # every given criterion must match (reconstructed: the seed's Рисунок 1 is not printed)
    assert status(stand, f"<number>T-OLD</number><iin>{IIN}</iin>")[0] == "NOT_FOUND"


@pytest.mark.req("SHEP-4", "SHEP-5", "SHEP-7")
def test_three_statuses_with_their_conditional_fields(stand: Stand) -> None:
    answer = stand.post(envelope("<iin>900101400013</iin>"))
    items = {item.findtext("number"): item for item in data_of(answer).findall("medicalExemptionList")}
    actual, old, revoked = items["T-ACTUAL"], items["T-OLD"], items["T-REVOKED"]
    assert [actual.findtext("status"), old.findtext("status"), revoked.findtext("status")] == [
        "UP_TO_DATE",
        "NOT_UP_TO_DATE",
        "REVOKED",
    ]
    assert old.findtext("temporaryContraindicationEndDate") == "2025-06-30T00:00:00+06:00"
    assert actual.find("temporaryContraindicationEndDate") is None and revoked.find("revocationReason") is not None
    assert revoked.findtext("revocationReason") == "Отозван по заявлению пациента"
    assert old.find("revocationReason") is None
    assert actual.find("certificate") is not None and actual.find("printableCertificate") is not None
    assert old.find("certificate") is None  # Таблица 2: the electronic form of an actual exemption
    procedure = actual.find("medicalProcedure")
    assert procedure is not None and procedure.findtext("code") == "102"
    assert procedure.findtext("nameKk") == "Тұмауға қарсы вакцинация"
    for schema in (our_schema(), reference_schema()):
        assert_valid(schema, payload(answer))


@pytest.mark.req("SHEP-6", "SHEP-7")
def test_not_found_is_a_success_envelope_with_the_notice(stand: Stand) -> None:
    answer = stand.post(envelope("<number>NO-SUCH</number>"))
    data = data_of(answer)
    assert data.findtext("status/code") == "NOT_FOUND"
    assert data.findtext("status/message") == "Медицинский отвод по указанным параметрам поиска не найден"
    assert data.find("medicalExemptionList") is None
    for schema in (our_schema(), reference_schema()):
        assert_valid(schema, payload(answer))


@pytest.mark.req("SHEP-5")
def test_certificates_for_every_status_when_configured(tmp_path: Path) -> None:
    other = start_shep(tmp_path, **{"shep.certificates_for_every_status": True, "shep.generate": 0})
    try:
        other.admin("POST", "/shep/exemptions", json={"number": "R1", "iin": IIN, "status": "REVOKED"})
        items = data_of(other.post(envelope("<number>R1</number>"))).findall("medicalExemptionList")
        assert items[0].find("certificate") is not None
    finally:
        other.stop()


@pytest.mark.req("X-4")
def test_generated_exemptions_are_reproducible_and_valid(tmp_path: Path) -> None:
    first, second = start_shep(tmp_path / "a"), start_shep(tmp_path / "b")
    try:
        listed = [s.admin("GET", "/shep/exemptions").json()["exemptions"] for s in (first, second)]
        assert listed[0] == listed[1] and len(listed[0]) == 31
        for item in listed[0]:
            assert item["iin"] is None or is_valid_iin(item["iin"])
            assert item["iin"] or (item["passport_number"] and item["citizenship_code"])
        assert {item["status"] for item in listed[0]} == {"UP_TO_DATE", "NOT_UP_TO_DATE", "REVOKED"}
        made = first.admin("POST", "/shep/exemptions/generate", json={"seed": 7, "count": 3}).json()
        assert made["numbers"] == ["01085", "0700001", "0700002", "0700003"]
    finally:
        first.stop()
        second.stop()


@pytest.mark.req("X-4")
def test_admin_add_generates_omitted_fields_and_refuses_bad_ones(stand: Stand) -> None:
    iin = make_iin(Random(5), dt.date(1990, 5, 17), male=False)
    made = stand.admin("POST", "/shep/exemptions", json={"iin": iin, "seed": 3}).json()
    assert made["iin"] == iin and made["number"] and made["last_name"]
    assert stand.admin("POST", "/shep/exemptions", json={"iin": "123"}).status_code == 400
    assert stand.admin("POST", "/shep/exemptions", json={"status": "MAYBE"}).status_code == 400
    assert stand.admin("POST", "/shep/exemptions", json={"colour": "red"}).status_code == 400
    assert stand.admin("GET", f"/shep/exemptions/{made['number']}").json()["iin"] == iin
    assert stand.admin("GET", "/shep/exemptions/NOPE").status_code == 404


@pytest.mark.req("X-5")
def test_exemptions_and_senders_survive_a_restart(tmp_path: Path) -> None:
    first = start_shep(tmp_path)
    first.admin("POST", "/shep/exemptions", json={"number": "KEEP-1", "iin": IIN})
    first.admin("POST", "/shep/senders", json={"senderId": "MIS_K", "password": "k"})
    first.stop()
    first.shep.close()
    second = start_shep(tmp_path)
    try:
        answer = second.post(envelope("<number>KEEP-1</number>", sender="MIS_K", password="k"))
        assert data_of(answer).findtext("medicalExemptionList/number") == "KEEP-1"
    finally:
        second.stop()


@pytest.mark.req("X-5")
def test_an_acknowledged_exemption_survives_sigkill(tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import requests

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def start(port: int) -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            "-m",
            "emulators.cli",
            "up",
            "shep",
            "--shep-port",
            str(port),
            "--data-dir",
            str(tmp_path),
            "--quiet",
        ]
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/__admin/health", timeout=1).status_code == 200:
                    return child
            except requests.ConnectionError:
                time.sleep(0.1)
        child.kill()
        raise RuntimeError("shep did not start")

    port = free_port()
    first = start(port)
    try:
        added = requests.post(
            f"http://127.0.0.1:{port}/__admin/shep/exemptions",
            timeout=10,
            json={"number": "KILL-1", "iin": IIN, "status": "UP_TO_DATE"},
        )
        assert added.status_code == 201
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    second = start(port)
    try:
        answer = requests.post(
            f"http://127.0.0.1:{port}/bip-sync-wss-gost/",
            timeout=10,
            data=envelope("<number>KILL-1</number>").encode(),
            headers={"Content-Type": "text/xml"},
        )
        assert "<number>KILL-1</number>" in answer.text
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
