"""A real SOAP client: zeep built from the WSDL the emulator serves, and `medstand sample-mis shep-search`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import zeep
from zeep.exceptions import Fault

from emulators.sample_mis import shep as mis
from tests.shep_support import Stand, start_shep


@pytest.fixture(scope="module")
def stand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stand]:
    running = start_shep(tmp_path_factory.mktemp("shep-zeep"))
    running.admin(
        "POST",
        "/shep/exemptions",
        json={"number": "Z-OLD", "iin": "900101400013", "status": "NOT_UP_TO_DATE", "end_date": "2025-06-30"},
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(stand: Stand) -> Any:
    return mis.client(stand.url)


@pytest.mark.req("SHEP-1", "SHEP-4", "SHEP-5")
def test_zeep_search_by_number(client: Any) -> None:
    response = mis.search(client, "sender", "password", number="01085")
    assert response.responseInfo.status.code == "SUCCESS"
    item = response.responseData.data.medicalExemptionList[0]
    assert item.number == "01085" and item.status == "UP_TO_DATE" and item.medicalProcedure.code == "100"
    assert item.certificate.startswith(b"%PDF-") and item.printableCertificate.startswith(b"%PDF-")


@pytest.mark.req("SHEP-3", "SHEP-4", "SHEP-6")
def test_zeep_iin_not_found_and_validation(client: Any) -> None:
    old = mis.search(client, "sender", "password", iin="900101400013").responseData.data.medicalExemptionList[0]
    assert old.status == "NOT_UP_TO_DATE" and old.temporaryContraindicationEndDate.year == 2025
    missing = mis.search(client, "sender", "password", number="NONE").responseData.data
    assert missing.status.code == "NOT_FOUND" and not missing.medicalExemptionList
    refused = mis.search(client, "sender", "password", passportNumber="N1").responseData.data
    assert refused.status.code == "VALIDATION_ERROR"


@pytest.mark.req("SHEP-2")
def test_zeep_sees_the_declared_fault(client: Any) -> None:
    with pytest.raises(Fault) as raised:
        mis.search(client, "sender", "wrong", number="01085")
    assert raised.value.code == "soap:Client"
    assert raised.value.detail.findtext(".//errorCode") == "AUTHENTICATION_ERROR"


@pytest.mark.req("SHEP-1")
def test_zeep_over_soap12(stand: Stand) -> None:
    client = zeep.Client(stand.endpoint + "?wsdl")
    service = client.bind("ISyncChannelHttpService", "SyncChannelHttpSoap12Port")
    request_type = client.get_type(mis.REQUEST_TYPE)
    info = {
        "messageId": "m-12",
        "serviceId": mis.SERVICE_ID,
        "messageDate": "2021-02-17T10:35:59+06:00",
        "sender": {"senderId": "sender", "password": "password"},
    }
    data = zeep.xsd.AnyObject(request_type, request_type(number="01085"))
    response = service.SendMessage(request={"requestInfo": info, "requestData": {"data": data}})
    assert response.responseData.data.medicalExemptionList[0].number == "01085"


@pytest.mark.req("SHEP-1")
def test_sample_mis_command(stand: Stand) -> None:
    run = [sys.executable, "-m", "emulators.cli", "sample-mis", "shep-search", "--url", stand.url]
    found = subprocess.run([*run, "--number", "01085"], capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert "01085  UP_TO_DATE  100 Иммунопрофилактика" in found.stdout
    down = subprocess.run(
        [*run[:-1], "http://127.0.0.1:9", "--iin", "850315300128"], capture_output=True, text=True, timeout=60
    )
    assert down.returncode == 2 and "cannot reach the ШЭП emulator" in down.stderr
    assert "Traceback" not in down.stderr
