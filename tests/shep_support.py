"""Shared pieces of the ШЭП tests: a running emulator, raw envelopes, and the two schema checks (SHEP-7)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from emulators.core.config import load_settings
from emulators.core.testing import Running, start_in_thread
from emulators.shep.service import Shep

GOLDEN = Path(__file__).parent / "golden" / "shep"
CONTRACTS = Path(__file__).parents[1] / "contracts" / "shep"
REFERENCE = Path(os.environ.get("MEDSTAND_REFERENCE", Path(__file__).parents[2] / "shared" / "reference"))
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TYPES = "http://bip.bee.kz/SyncChannel/v10/Types"
EHEALTH = "http://ehealth.kz/integration/sync"
XSD = "http://www.w3.org/2001/XMLSchema"
NS = {"s11": SOAP11, "s12": SOAP12, "t": TYPES}
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass
class Stand:
    shep: Shep
    served: Running

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def endpoint(self) -> str:
        return self.served.url + "/bip-sync-wss-gost/"

    def post(self, body: bytes | str, soap12: bool = False, path: str = "/bip-sync-wss-gost/") -> requests.Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        kind = "application/soap+xml; charset=utf-8" if soap12 else "text/xml; charset=utf-8"
        return requests.post(self.url + path, data=data, headers={"Content-Type": kind}, timeout=30)

    def admin(self, method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, f"{self.url}/__admin{path}", timeout=30, **kw)

    def stop(self) -> None:
        self.served.stop()


def start_shep(data_dir: Path, **overrides: Any) -> Stand:
    settings = load_settings(overrides={"data_dir": str(data_dir), "shep.port": 0, **overrides})
    shep = Shep(settings)
    return Stand(shep, start_in_thread(shep))


def envelope(
    data: str,
    soap12: bool = False,
    sender: str = "sender",
    password: str = "password",
    service: str = "EHEALTH_MEDICAL_EXEMPTION_SEARCH",
    message_id: str | None = None,
    xsi_type: str = "ns5:MedicalExemptionSearchRequest",
    header: str = "",
) -> str:
    """A SendMessage envelope like the seed's (Приложение 3); `data` is the content of requestData/data."""
    ns = SOAP12 if soap12 else SOAP11
    mid = f"<messageId>{message_id if message_id is not None else uuid.uuid4()}</messageId>"
    return (
        f'<soap:Envelope xmlns:soap="{ns}"><soap:Header>{header}</soap:Header><soap:Body>'
        f'<ns2:SendMessage xmlns:ns2="{TYPES}"><request><requestInfo>{mid if message_id != "" else ""}'
        f"<serviceId>{service}</serviceId><messageDate>2021-02-17T10:35:59.667+06:00</messageDate>"
        f"<sender><senderId>{sender}</senderId><password>{password}</password></sender></requestInfo>"
        f'<requestData><data xmlns:ns5="{EHEALTH}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:type="{xsi_type}">{data}</data></requestData></request></ns2:SendMessage></soap:Body></soap:Envelope>'
    )


def parse(answer: requests.Response) -> etree._Element:
    return etree.fromstring(answer.content, SAFE)


def payload(answer: requests.Response) -> etree._Element:
    """The Body's first child of an answer."""
    root = parse(answer)
    return root[-1][0]


def data_of(answer: requests.Response) -> etree._Element:
    found = payload(answer).find("response/responseData/data")
    assert found is not None, answer.text[:500]
    return found


def _schema(imports: dict[str, Path]) -> etree.XMLSchema:
    body = "".join(
        f'<xsd:import namespace="{ns}" schemaLocation="{path.resolve().as_uri()}"/>' for ns, path in imports.items()
    )
    wrapper = f'<xsd:schema xmlns:xsd="{XSD}" targetNamespace="urn:t">{body}</xsd:schema>'
    return etree.XMLSchema(etree.fromstring(wrapper))


def our_schema() -> etree.XMLSchema:
    return _schema({TYPES: CONTRACTS / "syncchannel/Types.xsd", EHEALTH: CONTRACTS / "MedicalExemptionSearch.xsd"})


def reference_schema() -> etree.XMLSchema:
    """The public SyncChannel v10 schemas (reference/) plus the seed's business XSD, for xsi:type data."""
    wrapper = REFERENCE / "shep-syncchannel-v10/wrappers/sync_all.xsd"
    if not wrapper.is_file():
        pytest.skip(f"reference schemas not found at {REFERENCE} (set MEDSTAND_REFERENCE)")
    return _schema({TYPES: wrapper, EHEALTH: CONTRACTS / "MedicalExemptionSearch.xsd"})


def assert_valid(schema: etree.XMLSchema, element: etree._Element) -> None:
    copy = etree.fromstring(etree.tostring(element))  # validated as a document of its own
    assert schema.validate(copy), schema.error_log
