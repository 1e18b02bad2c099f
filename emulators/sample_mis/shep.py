"""The reference MIS's ШЭП side: a zeep client built from the WSDL the gateway serves (`sample-mis shep-search`).

It sends SyncChannel v10 SendMessage with requestData/data of xsi:type MedicalExemptionSearchRequest
(zeep's `xsd.AnyObject`, because data is xs:anyType) and prints what it found, one line per exemption.
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from typing import Any

SERVICE_ID = "EHEALTH_MEDICAL_EXEMPTION_SEARCH"
REQUEST_TYPE = "{http://ehealth.kz/integration/sync}MedicalExemptionSearchRequest"


def client(url: str) -> Any:
    """A zeep client from `{url}/bip-sync-wss-gost/?wsdl`; UsageError (one line) when nothing answers there."""
    import requests
    import zeep

    from emulators.core.cliutil import unreachable

    wsdl = url.rstrip("/") + "/bip-sync-wss-gost/?wsdl"
    try:
        return zeep.Client(wsdl)
    except requests.ConnectionError as exc:
        raise unreachable("ШЭП emulator", url) from exc


def search(soap: Any, sender: str, password: str, **criteria: str) -> Any:
    """One SendMessage; returns zeep's SendMessageResponse `response` object (zeep.exceptions.Fault on a fault)."""
    from zeep import xsd

    request_type = soap.get_type(REQUEST_TYPE)
    info = {
        "messageId": str(uuid.uuid4()),
        "serviceId": SERVICE_ID,
        "messageDate": dt.datetime.now(dt.timezone(dt.timedelta(hours=6))),
        "sender": {"senderId": sender, "password": password},
    }
    data = xsd.AnyObject(request_type, request_type(**criteria))
    return soap.service.SendMessage(request={"requestInfo": info, "requestData": {"data": data}})


def describe(response: Any) -> list[str]:
    """The lines `shep-search` prints for an answer."""
    status = response.responseInfo.status
    lines = [f"responseInfo: {status.code} {status.message}"]
    data = response.responseData.data if response.responseData is not None else None
    if data is None:
        return lines
    lines.append(f"data: {data.status.code} {data.status.message or ''}".rstrip())
    for item in data.medicalExemptionList or []:
        extra = []
        if item.temporaryContraindicationEndDate:
            extra.append(f"until {item.temporaryContraindicationEndDate.date().isoformat()}")
        if item.revocationReason:
            extra.append(f"revoked: {item.revocationReason}")
        if item.certificate:
            extra.append(f"certificate {len(item.certificate)} bytes")
        if item.printableCertificate:
            extra.append(f"printable {len(item.printableCertificate)} bytes")
        procedure = f"{item.medicalProcedure.code} {item.medicalProcedure.nameRu}"
        lines.append(f"{item.number}  {item.status}  {procedure}" + "".join(f"; {e}" for e in extra))
    return lines


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    part = subparsers.add_parser(
        "shep-search", help="search medical exemptions through ШЭП (zeep, SOAP)", description=__doc__
    )
    part.add_argument("--url", default="http://127.0.0.1:2400", help="ШЭП emulator (default %(default)s)")
    which = part.add_mutually_exclusive_group(required=True)
    which.add_argument("--iin", help="ИИН (12 digits)")
    which.add_argument("--number", help="exemption number, e.g. 01085")
    which.add_argument("--passport", help="passport number (with --citizenship)")
    part.add_argument("--citizenship", help="citizenship code, e.g. 643")
    part.add_argument("--sender", default="sender", help="senderId (default: the seed's)")
    part.add_argument("--password", default="password", help="sender password (default: the seed's)")
    part.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from zeep.exceptions import Fault

    criteria = {
        "number": args.number,
        "iin": args.iin,
        "passportNumber": args.passport,
        "citizenshipCode": args.citizenship,
    }
    soap = client(args.url)
    try:
        response = search(soap, args.sender, args.password, **{k: v for k, v in criteria.items() if v})
    except Fault as fault:
        print(f"SOAP fault {fault.code}: {fault.message}")
        return 1
    for line in describe(response):
        print(line)
    return 0
