"""X-5: hostile XML gets a SOAP fault — never a resolved entity, a crash or a hang; stored data stays."""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.shep_support import Stand, data_of, envelope, parse, start_shep

SECRET = "medstand-secret-7f3a"


@pytest.fixture(scope="module")
def stand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stand]:
    running = start_shep(tmp_path_factory.mktemp("shep-hostile"))
    yield running
    running.stop()


def assert_fault(answer: requests.Response, code: str = "soap:Client") -> str:
    assert answer.status_code in (400, 413, 500), answer.status_code
    assert answer.headers["content-type"].startswith("text/xml")
    root = parse(answer)
    assert root.findtext(".//faultcode") == code, answer.text
    return root.findtext(".//faultstring") or ""


@pytest.mark.req("X-5")
def test_external_entity_is_never_resolved(stand: Stand, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    body = f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "{secret.as_uri()}">]>' + envelope(
        "<number>&x;</number>"
    )
    answer = stand.post(body)
    assert "DTD" in assert_fault(answer)
    assert SECRET not in answer.text


@pytest.mark.req("X-5")
def test_billion_laughs_answers_fast(stand: Stand) -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    body = f'<?xml version="1.0"?><!DOCTYPE e [{entities}]>' + envelope("<number>&a9;</number>")
    started = time.monotonic()
    answer = stand.post(body)
    assert time.monotonic() - started < 2
    assert "DTD" in assert_fault(answer)


@pytest.mark.req("X-5")
def test_undeclared_entity_and_parameter_entity(stand: Stand) -> None:
    assert_fault(stand.post(envelope("<number>&undeclared;</number>")))
    body = '<?xml version="1.0"?><!DOCTYPE e [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]><e/>'
    assert_fault(stand.post(body))


@pytest.mark.req("X-5")
def test_fifty_megabytes_refused_without_reading_them(stand: Stand) -> None:
    big = envelope("<number>" + "9" * (50 * 1024 * 1024) + "</number>").encode()
    answer = stand.post(big)
    assert answer.status_code == 413
    assert "Размер сообщения" in assert_fault(answer)


@pytest.mark.req("X-5")
def test_gzip_bomb_refused(stand: Stand) -> None:
    bomb = gzip.compress(b"<" + b" " * (60 * 1024 * 1024))
    answer = requests.post(
        stand.endpoint, data=bomb, timeout=30, headers={"Content-Type": "text/xml", "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 413 and assert_fault(answer)


@pytest.mark.req("X-5")
@pytest.mark.parametrize("body", [b"", b"not xml at all", b'{"json": true}', b"<soap:Envelope", b"\xff\xfe\x00<"])
def test_not_xml(stand: Stand, body: bytes) -> None:
    assert_fault(stand.post(body))


@pytest.mark.req("X-5", "SHEP-1")
def test_wrong_envelope_namespace_is_a_version_mismatch(stand: Stand) -> None:
    body = envelope("<number>01085</number>").replace("http://schemas.xmlsoap.org/soap/envelope/", "urn:not-soap")
    assert_fault(stand.post(body), "soap:VersionMismatch")
    assert_fault(stand.post(b"<Envelope><Body/></Envelope>"), "soap:VersionMismatch")


@pytest.mark.req("X-5")
def test_truncated_body_does_not_hang(stand: Stand) -> None:
    host, port = stand.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(
            b"POST /bip-sync-wss-gost/ HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            b"Content-Length: 1000\r\n\r\n<soap:Envelope"
        )
    # the emulator still answers the next client, and what it stored is intact
    answer = stand.post(envelope("<number>01085</number>"))
    assert data_of(answer).findtext("medicalExemptionList/number") == "01085"


@pytest.mark.req("X-5")
def test_unknown_path_and_method_are_soap_faults(stand: Stand) -> None:
    assert requests.post(stand.url + "/nowhere", data=b"<x/>", timeout=10).status_code == 404
    answer = requests.put(stand.endpoint, data=b"<x/>", timeout=10)
    assert answer.status_code == 405 and parse(answer).findtext(".//faultcode") == "soap:Client"
