"""SHEP-3/4/6: the search parameters of MedicalExemptionSearchRequest, their rules, and the answer's data."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

from emulators.core.datagen import is_valid_iin
from emulators.shep import catalogue as texts
from emulators.shep.soap import EHEALTH_NS, XSI, status_xml
from emulators.shep.store import Exemption

REQUEST_TYPE = "MedicalExemptionSearchRequest"
DATA_OPEN = f'<data xmlns:ns4="{EHEALTH_NS}" xmlns:xsi="{XSI}" xsi:type="ns4:MedicalExemptionSearchResponse">'


class SearchRefused(Exception):
    """Search parameters that break SHEP-3: answered with a VALIDATION_ERROR status, no list."""

    def __init__(self, text: texts.Text) -> None:
        super().__init__(text.message)
        self.text = text


@dataclass(frozen=True)
class Criteria:
    number: str | None
    iin: str | None
    passport: tuple[str, str] | None

    def describe(self) -> str:
        given = {"number": self.number, "iin": self.iin, "passport": "/".join(self.passport or ()) or None}
        return " ".join(f"{k}={v}" for k, v in given.items() if v)


def _child(data: etree._Element, name: str) -> str | None:
    node = data.find(name)
    value = (node.text or "").strip() if node is not None else ""
    return value or None


def _xsi_type(data: etree._Element) -> tuple[str | None, str]:
    raw = data.get(f"{{{XSI}}}type")
    if raw is None:
        return None, "xsi:type отсутствует"
    prefix, _, local = raw.strip().rpartition(":")
    return data.nsmap.get(prefix or None), local


def criteria_of(data: etree._Element | None) -> Criteria:
    """The criteria of requestData/data; SearchRefused when they break SHEP-3."""
    if data is None:
        raise SearchRefused(texts.WRONG_DATA_TYPE.format(found="элемент data отсутствует"))
    namespace, local = _xsi_type(data)
    if (namespace, local) != (EHEALTH_NS, REQUEST_TYPE):
        raise SearchRefused(texts.WRONG_DATA_TYPE.format(found=f"{{{namespace}}}{local}" if namespace else local))
    number, iin = _child(data, "number"), _child(data, "iin")
    passport, citizenship = _child(data, "passportNumber"), _child(data, "citizenshipCode")
    if passport and not citizenship:
        raise SearchRefused(texts.PASSPORT_WITHOUT_CITIZENSHIP)
    if not (number or iin or passport):
        raise SearchRefused(texts.NO_CRITERIA)
    if iin is not None:
        if len(iin) != 12 or not iin.isdigit():
            raise SearchRefused(texts.IIN_FORMAT.format(iin=iin))
        if not is_valid_iin(iin):
            raise SearchRefused(texts.IIN_CHECKSUM.format(iin=iin))
    return Criteria(number, iin, (passport, citizenship) if passport and citizenship else None)


def found_xml(exemption: Exemption, certificate: str | None, printable: str | None) -> str:
    """One medicalExemptionList item (FoundMedicalExemption), in the seed XSD's element order."""
    procedure = exemption.procedure
    parts = [
        f"<medicalExemptionList><number>{escape(exemption.number)}</number>",
        f"<medicalProcedure><code>{escape(procedure.code)}</code><nameRu>{escape(procedure.name_ru)}</nameRu>"
        f"<nameKk>{escape(procedure.name_kk)}</nameKk></medicalProcedure>",
        f"<status>{exemption.status}</status>",
    ]
    if exemption.status == texts.NOT_UP_TO_DATE and exemption.end_date:
        parts.append(
            f"<temporaryContraindicationEndDate>{exemption.end_date}T00:00:00+06:00</temporaryContraindicationEndDate>"
        )
    if exemption.status == texts.REVOKED and exemption.revocation_reason:
        parts.append(f"<revocationReason>{escape(exemption.revocation_reason)}</revocationReason>")
    if certificate is not None:
        parts.append(f"<certificate>{certificate}</certificate>")
    if printable is not None:
        parts.append(f"<printableCertificate>{printable}</printableCertificate>")
    parts.append("</medicalExemptionList>")
    return "".join(parts)


def data_xml(status: texts.Text, items: list[str]) -> str:
    """responseData/data of xsi:type MedicalExemptionSearchResponse."""
    return DATA_OPEN + status_xml(status) + "".join(items) + "</data>"
