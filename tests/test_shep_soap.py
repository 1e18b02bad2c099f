"""SHEP-1/2, X-1/2/3: SOAP 1.1 and 1.2 envelopes, the WSDL, requestInfo checks, faults, journal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.shep_support import (
    GOLDEN,
    NS,
    SOAP11,
    SOAP12,
    TYPES,
    Stand,
    assert_valid,
    data_of,
    envelope,
    our_schema,
    parse,
    payload,
    reference_schema,
    start_shep,
)

NUMBER = "<number>01085</number>"


@pytest.fixture(scope="module")
def stand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stand]:
    running = start_shep(tmp_path_factory.mktemp("shep-soap"))
    yield running
    running.stop()


def fault_detail(answer: requests.Response) -> dict[str, str]:
    found = parse(answer).find(f".//{{{TYPES}}}SendMessageFault1_SendMessageFault")
    assert found is not None, answer.text
    return {child.tag: child.text or "" for child in found}


@pytest.mark.req("SHEP-1")
@pytest.mark.parametrize("path", ["/bip-sync-wss-gost/", "/"])
def test_soap11_on_both_paths(stand: Stand, path: str) -> None:
    answer = stand.post(envelope(NUMBER), path=path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/xml; charset=utf-8"
    assert parse(answer).tag == f"{{{SOAP11}}}Envelope"
    assert data_of(answer).findtext("medicalExemptionList/number") == "01085"


@pytest.mark.req("SHEP-1")
def test_soap12_envelope_of_appendix_4_accepted(stand: Stand) -> None:
    header = (GOLDEN / "seed_soap12_format.xml").read_text(encoding="utf-8")
    addressing = header[header.index("<soap:Header>") + len("<soap:Header>") : header.index("</soap:Header>")]
    body = (
        envelope(NUMBER, soap12=True)
        .replace(
            f'<soap:Envelope xmlns:soap="{SOAP12}">',
            f'<soap:Envelope xmlns:soap="{SOAP12}" xmlns:a="http://www.w3.org/2005/08/addressing">',
        )
        .replace("<soap:Header></soap:Header>", f"<soap:Header>{addressing}</soap:Header>")
    )
    answer = stand.post(body, soap12=True)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/soap+xml; charset=utf-8"
    assert parse(answer).tag == f"{{{SOAP12}}}Envelope"
    assert data_of(answer).findtext("medicalExemptionList/status") == "UP_TO_DATE"


@pytest.mark.req("SHEP-1")
def test_wsdl_served_with_schemas_from_the_emulator(stand: Stand) -> None:
    wsdl = requests.get(stand.endpoint + "?wsdl", timeout=10)
    assert wsdl.status_code == 200 and b"SendMessage" in wsdl.content
    assert f'location="{stand.url}/bip-sync-wss-gost/"'.encode() in wsdl.content
    xsd = requests.get(stand.endpoint + "?xsd=MedicalExemptionSearch.xsd", timeout=10)
    assert xsd.status_code == 200 and b"MedicalExemptionSearchRequest" in xsd.content
    assert f"{stand.endpoint}?xsd=common/Status.xsd".encode() in xsd.content
    assert requests.get(stand.endpoint + "?xsd=../../etc/passwd", timeout=10).status_code == 404


@pytest.mark.req("SHEP-2")
@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"password": "wrong"}, "AUTHENTICATION_ERROR"),
        ({"sender": "nobody"}, "SENDER_NOT_FOUND"),
        ({"service": "SOME_OTHER_SERVICE"}, "SERVICE_NOT_FOUND"),
        ({"message_id": ""}, "VALIDATION_ERROR"),
    ],
)
def test_request_info_errors_are_soap_faults(stand: Stand, kwargs: dict[str, str], code: str) -> None:
    answer = stand.post(envelope(NUMBER, **kwargs))
    assert answer.status_code == 500
    assert parse(answer).findtext(".//faultcode") == "soap:Client"
    detail = fault_detail(answer)
    assert detail["errorCode"] == code
    assert detail["sessionId"].startswith("{") and detail["sessionId"].endswith("}")
    fault = parse(answer).find(f".//{{{TYPES}}}SendMessageFault1_SendMessageFault")
    assert fault is not None
    assert_valid(our_schema(), fault)
    assert_valid(reference_schema(), fault)


@pytest.mark.req("SHEP-2", "SHEP-1")
def test_soap12_fault_shape_and_status(stand: Stand) -> None:
    answer = stand.post(envelope(NUMBER, soap12=True, password="wrong"), soap12=True)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/soap+xml")
    root = parse(answer)
    assert root.findtext(".//s12:Code/s12:Value", namespaces=NS) == "env:Sender"
    assert root.find(".//s12:Reason/s12:Text", namespaces=NS).get("{http://www.w3.org/XML/1998/namespace}lang") == "ru"
    assert root.find(".//s12:Detail/t:SendMessageFault1_SendMessageFault", namespaces=NS) is not None


@pytest.mark.req("SHEP-2")
def test_senders_added_through_admin_and_kept(stand: Stand, tmp_path: Path) -> None:
    assert stand.post(envelope(NUMBER, sender="MIS_1", password="s3cret")).status_code == 500
    added = stand.admin("POST", "/shep/senders", json={"senderId": "MIS_1", "password": "s3cret"})
    assert added.status_code == 201
    assert stand.post(envelope(NUMBER, sender="MIS_1", password="s3cret")).status_code == 200
    assert "MIS_1" in stand.admin("GET", "/shep/senders").json()["senders"]
    assert stand.admin("POST", "/shep/senders", json={"senderId": 5}).status_code == 400


@pytest.mark.req("SHEP-2")
def test_request_info_errors_as_status_when_configured(tmp_path: Path) -> None:
    other = start_shep(tmp_path, **{"shep.request_info_errors": "status"})
    try:
        answer = other.post(envelope(NUMBER, password="wrong"))
        assert answer.status_code == 200
        info = payload(answer).find("response/responseInfo")
        assert info is not None and info.findtext("status/code") == "AUTHENTICATION_ERROR"
        assert payload(answer).find("response/responseData/data") is None
        assert_valid(reference_schema(), payload(answer))
    finally:
        other.stop()


@pytest.mark.req("X-1")
def test_schema_invalid_request_is_a_fault_with_the_errors(stand: Stand) -> None:
    answer = stand.post(envelope("<iin>850315300128</iin><number>01085</number>"))  # out of XSD order
    assert answer.status_code == 500
    detail = fault_detail(answer)
    assert detail["errorCode"] == "VALIDATION_ERROR" and "number" in detail["errorMessage"]
    unknown_type = stand.post(envelope(NUMBER, xsi_type="ns5:NoSuchType"))
    assert fault_detail(unknown_type)["errorCode"] == "VALIDATION_ERROR"


@pytest.mark.req("SHEP-1")
def test_unknown_operation_and_must_understand(stand: Stand) -> None:
    other = envelope(NUMBER).replace("ns2:SendMessage", "ns2:GetMessage")
    assert "SendMessage" in parse(stand.post(other)).findtext(".//faultstring")
    header = '<x:Security xmlns:x="urn:x" soap:mustUnderstand="1"/>'
    answer = stand.post(envelope(NUMBER, header=header))
    assert parse(answer).findtext(".//faultcode") == "soap:MustUnderstand"


@pytest.mark.req("X-2")
def test_journal_records_the_exchange_without_the_password(stand: Stand) -> None:
    stand.admin("DELETE", "/journal")
    stand.post(envelope(NUMBER, password="password"))
    events = stand.admin("GET", "/journal", params={"operation": "SendMessage"}).json()["events"]
    assert events and events[-1]["outcome"] == "ok"
    request_text = events[-1]["request"]["body"]["text"]
    assert "<password>***</password>" in request_text and "found=1" in events[-1]["details"]["summary"]
    attributes = events[-1]["attributes"]
    assert attributes["soap_action"] == "SendMessage" and attributes["message_id"]
    by_id = stand.admin("GET", "/journal", params={"attr.message_id": attributes["message_id"]}).json()["events"]
    assert [e["id"] for e in by_id] == [events[-1]["id"]]
    waited = stand.admin("GET", "/journal/wait", params={"operation": "SendMessage", "timeout": "0.2"})
    assert waited.status_code == 408


@pytest.mark.req("X-3")
def test_faults_maintenance_status_delay_drop(stand: Stand) -> None:
    stand.admin("POST", "/faults", json={"kind": "maintenance", "operation": "SendMessage", "times": 1})
    answer = stand.post(envelope(NUMBER))
    assert answer.status_code == 503 and parse(answer).findtext(".//faultcode") == "soap:Server"
    stand.admin("POST", "/faults", json={"kind": "status", "status": 500, "operation": "SendMessage", "times": 1})
    assert stand.post(envelope(NUMBER)).status_code == 500
    stand.admin("POST", "/faults", json={"kind": "drop", "operation": "SendMessage", "times": 1})
    with pytest.raises(requests.ConnectionError):
        stand.post(envelope(NUMBER))
    stand.admin("POST", "/faults", json={"kind": "delay", "delay_ms": 300, "operation": "SendMessage", "times": 1})
    answer = stand.post(envelope(NUMBER))
    assert answer.status_code == 200 and answer.elapsed.total_seconds() >= 0.3
