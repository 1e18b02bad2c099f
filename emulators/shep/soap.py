"""SOAP 1.1 / 1.2 envelopes of SyncChannel v10: a hostile-input-safe parser, answers and faults.

The parser never loads or resolves anything (no DTD, no entities, no network) and any document with a
DOCTYPE is refused, so XXE and entity expansion ("billion laughs") cannot happen. Answers are written
as text: the envelope is small and fixed, and the certificates are already base64.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

from emulators.core.http import Response
from emulators.shep import catalogue as texts

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TYPES_NS = "http://bip.bee.kz/SyncChannel/v10/Types"
EHEALTH_NS = "http://ehealth.kz/integration/sync"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSA = "http://www.w3.org/2005/08/addressing"  # Приложение 4's headers: understood (and not acted upon)
CONTENT_TYPES = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}
# SOAP 1.2 fault codes for the SOAP 1.1 ones; the HTTP status each gets (SOAP 1.2 part 2, 7.5.1; WS-I BP: 500)
SOAP12_CODES = {
    "Client": "Sender",
    "Server": "Receiver",
    "VersionMismatch": "VersionMismatch",
    "MustUnderstand": "MustUnderstand",
}
_PASSWORD = re.compile(rb"(<(?:[\w.-]+:)?password(?:\s[^>]*)?>)[^<]*(</)")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
    )


PARSER = _parser()


class SoapFault(Exception):
    """An answer as a SOAP fault; `detail` adds SendMessageFault1_SendMessageFault (ErrorInfo)."""

    def __init__(
        self,
        code: str,
        text: texts.Text,
        detail: bool = False,
        status: int | None = None,
        error_data: str | None = None,
        requirement: str = "SHEP-1",
    ) -> None:
        super().__init__(text.message)
        self.code = code
        self.text = text
        self.detail = detail
        self.status = status
        self.error_data = error_data
        self.requirement = requirement


@dataclass(frozen=True)
class Envelope:
    version: str  # SOAP11 or SOAP12
    operation: etree._Element  # the Body's first child


def version_of_content_type(content_type: str) -> str:
    """The SOAP version a request claims before its body is read (for errors found before parsing)."""
    return SOAP12 if "application/soap+xml" in content_type.lower() else SOAP11


def parse(body: bytes) -> Envelope:
    """The envelope of `body`; SoapFault for anything that is not a safe SOAP 1.1/1.2 envelope."""
    if not body.strip():
        raise SoapFault("Client", texts.NOT_XML.format(error="пустое тело запроса"))
    if b"<!DOCTYPE" in body:  # a literal "<" cannot be text, so this is a DTD (or one in a comment/CDATA)
        raise SoapFault("Client", texts.DTD_REFUSED, requirement="X-5")
    try:
        root = etree.fromstring(body, PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapFault("Client", texts.NOT_XML.format(error=str(exc)[:200])) from exc
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise SoapFault("Client", texts.DTD_REFUSED)
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "Envelope" or namespace not in (SOAP11, SOAP12):
        raise SoapFault("VersionMismatch", texts.NOT_ENVELOPE.format(found=root.tag))
    _check_headers(root, namespace)
    body_element = root.find(f"{{{namespace}}}Body")
    children = [] if body_element is None else [c for c in body_element if isinstance(c.tag, str)]
    if not children:
        raise SoapFault("Client", texts.NO_BODY)
    return Envelope(namespace, children[0])


def _check_headers(root: etree._Element, namespace: str) -> None:
    header = root.find(f"{{{namespace}}}Header")
    if header is None:
        return
    for block in header:
        if not isinstance(block.tag, str) or etree.QName(block).namespace == WSA:
            continue
        flag = block.get(f"{{{namespace}}}mustUnderstand", "0")
        if flag in ("1", "true"):
            raise SoapFault("MustUnderstand", texts.MUST_UNDERSTAND.format(header=block.tag))


def now(offset_hours: int) -> str:
    """Now as xs:dateTime with milliseconds in the seed's style: 2021-11-11T16:25:39.071+06:00."""
    moment = dt.datetime.now(dt.timezone(dt.timedelta(hours=offset_hours)))
    return moment.isoformat(timespec="milliseconds")


def status_xml(text: texts.Text) -> str:
    return f"<status><code>{escape(text.code)}</code><message>{escape(text.message[:250])}</message></status>"


def send_message_response(version: str, status: texts.Text, data: str, offset_hours: int) -> Response:
    """A SendMessageResponse shaped as the seed's Приложение 3 answer; `data` is responseData's content."""
    prefix = "soap" if version == SOAP11 else "env"
    body = (
        f'<{prefix}:Envelope xmlns:{prefix}="{version}"><{prefix}:Body>'
        f'<ns2:SendMessageResponse xmlns:ns2="{TYPES_NS}"><response><responseInfo>'
        f"<messageId>{uuid.uuid4()}</messageId><responseDate>{now(offset_hours)}</responseDate>"
        f"{status_xml(status)}</responseInfo><responseData>{data}</responseData></response>"
        f"</ns2:SendMessageResponse></{prefix}:Body></{prefix}:Envelope>"
    )
    return Response(200, body.encode("utf-8"), CONTENT_TYPES[version])


def fault_response(version: str, fault: SoapFault, offset_hours: int) -> Response:
    """The fault in the shape of `version`; ErrorInfo detail when the fault carries one."""
    detail = _error_info(fault, offset_hours) if fault.detail else ""
    message = escape(fault.text.message)
    if version == SOAP12:
        code = SOAP12_CODES[fault.code]
        body = (
            f'<env:Envelope xmlns:env="{SOAP12}"><env:Body><env:Fault><env:Code><env:Value>env:{code}</env:Value>'
            f'</env:Code><env:Reason><env:Text xml:lang="ru">{message}</env:Text></env:Reason>'
            + (f"<env:Detail>{detail}</env:Detail>" if detail else "")
            + "</env:Fault></env:Body></env:Envelope>"
        )
        status = fault.status or (400 if code == "Sender" else 500)
    else:
        body = (
            f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><soap:Fault><faultcode>soap:{fault.code}</faultcode>'
            f"<faultstring>{message}</faultstring>"
            + (f"<detail>{detail}</detail>" if detail else "")
            + "</soap:Fault></soap:Body></soap:Envelope>"
        )
        status = fault.status or 500
    return Response(status, body.encode("utf-8"), CONTENT_TYPES[version], outcome="fault")


def _error_info(fault: SoapFault, offset_hours: int) -> str:
    data = f"<errorData>{escape(fault.error_data)}</errorData>" if fault.error_data else ""
    return (
        f'<ns2:SendMessageFault1_SendMessageFault xmlns:ns2="{TYPES_NS}"><errorCode>{escape(fault.text.code)}'
        f"</errorCode><errorMessage>{escape(fault.text.message)}</errorMessage>{data}"
        f"<errorDate>{now(offset_hours)}</errorDate><sessionId>{{{uuid.uuid4()}}}</sessionId>"
        "</ns2:SendMessageFault1_SendMessageFault>"
    )


def masked(body: bytes) -> bytes:
    """The body with every <password> value replaced by *** (what the journal keeps)."""
    return _PASSWORD.sub(rb"\1***\2", body) if b"password>" in body else body
