"""The ШЭП emulator: SyncChannel v10 SendMessage at /bip-sync-wss-gost/ and /, WSDL at ?wsdl, admin routes.

One SendMessage goes: safe parse → envelope (1.1 or 1.2) → operation → requestInfo (SHEP-2) → schema
(X-1) → search parameters (SHEP-3) → search → answer (SHEP-4/6) with cached certificates (SHEP-5).
"""

from __future__ import annotations

import datetime as dt
import re
from random import Random

from lxml import etree

from emulators import __version__
from emulators.core.admin import AdminBinding, mount_admin, render_admin_error
from emulators.core.config import Settings
from emulators.core.contract import Contract, contracts_dir
from emulators.core.emulator import Emulator
from emulators.core.errors import ConfigError
from emulators.core.faults import Fault
from emulators.core.http import HttpApp, HttpError, Request, Response, bind_contract
from emulators.core.storage import Database
from emulators.shep import catalogue as texts
from emulators.shep import schemas, search, soap
from emulators.shep.certificates import CertificateCache
from emulators.shep.settings import ShepSettings
from emulators.shep.store import Exemption, ExemptionStore, generate, seed_example

NAME = "shep"
PATHS = ("/bip-sync-wss-gost/", "/")
ADMIN_CONTRACT = "shep/admin.openapi.yaml"
FAULT_KINDS = ("delay", "status", "maintenance", "drop")
FORMS = ("fault", "status")


class Shep(Emulator):
    """ШЭП with the «Медицинские отводы» provider behind it; `app` is its ASGI application."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        super().__init__(NAME, settings, FAULT_KINDS)
        self.cfg: ShepSettings = settings.section(NAME)
        if self.cfg.request_info_errors not in FORMS:
            raise ConfigError(f"shep.request_info_errors must be one of {', '.join(FORMS)}")
        self.db = db or Database(settings.resolved_database_url)
        self.health_checks["storage"] = self.db.health
        self.store = ExemptionStore(self.db)
        self.senders = {s.sender_id: s.password for s in self.cfg.senders}
        self.senders.update(dict(self.db.query("SELECT sender_id, password FROM shep_sender")))
        self.certificates = CertificateCache(self.cfg.certificate_cache_size)
        self.schema = schemas.request_schema() if self.cfg.validate_requests else None
        if not len(self.store):
            self.populate(self.cfg.seed, self.cfg.generate)
        self.app = HttpApp(
            NAME, self.journal, self.faults, self._render_error, render_admin_error, self.cfg.max_body_bytes
        )
        self.app.render_fault = self._render_fault
        for path in (*PATHS, "/bip-sync-wss-gost"):
            self.app.route("POST", path, "SendMessage", self.send_message)
            self.app.route("GET", path, "wsdl", self.wsdl)
        from emulators.shep.admin import admin_handlers

        bind_contract(self.app, Contract(contracts_dir() / ADMIN_CONTRACT), admin_handlers(self), admin=True)
        mount_admin(
            self.app,
            AdminBinding(
                NAME,
                __version__,
                "ШЭП SyncChannel v10 · ИС МЗ РК «Медицинские отводы»",
                self.state,
                self.reset,
                {"shep-admin": ADMIN_CONTRACT},
                self.health,
            ),
        )
        self.listen(self.app, self.cfg.port)

    # -- data ----------------------------------------------------------------------------------------

    def populate(self, seed: int, count: int) -> list[Exemption]:
        """The seed's example exemption plus `count` generated ones, the same for the same seed (X-4)."""
        rng, today = Random(seed), dt.date.today()
        made = [seed_example(today)] + [generate(rng, f"{seed:02d}{n:05d}", today) for n in range(1, count + 1)]
        self.store.put(made)
        return made

    def add_sender(self, sender_id: str, password: str) -> None:
        self.db.execute(
            "INSERT INTO shep_sender (sender_id, password) VALUES (?, ?) "
            "ON CONFLICT(sender_id) DO UPDATE SET password = excluded.password",
            (sender_id, password),
        )
        self.senders[sender_id] = password

    def state(self) -> dict[str, object]:
        by_status: dict[str, int] = {}
        for exemption in self.store.by_number.values():
            by_status[exemption.status] = by_status.get(exemption.status, 0) + 1
        return {
            "exemptions": len(self.store),
            "by_status": by_status,
            "senders": sorted(self.senders),
            "certificates_rendered": self.certificates.rendered,
        }

    def reset(self) -> None:
        self.store.clear()
        self.certificates.clear()
        self.populate(self.cfg.seed, self.cfg.generate)

    def close(self) -> None:
        self.db.close()

    # -- SOAP ----------------------------------------------------------------------------------------

    async def send_message(self, request: Request) -> Response:
        version = soap.version_of_content_type(request.headers.get("content-type", ""))  # until the envelope says
        try:
            envelope = soap.parse(request.body)
            version = envelope.version
            response = self._answer(envelope)
        except soap.SoapFault as fault:
            response = soap.fault_response(version, fault, self.cfg.utc_offset_hours)
            response.violations.append({"requirement": fault.requirement, "message": fault.text.message})
            response.summary = f"fault {fault.text.code}"
        response.attributes = {"soap_action": request.headers.get("soapaction", "").strip('"') or "SendMessage",
                               **_message_id(request.body)}  # fmt: skip
        request.body = soap.masked(request.body)  # the journal keeps no password
        return response

    def _answer(self, envelope: soap.Envelope) -> Response:
        operation = envelope.operation
        if operation.tag != f"{{{soap.TYPES_NS}}}SendMessage":
            raise soap.SoapFault("Client", texts.UNKNOWN_OPERATION.format(found=operation.tag))
        refused = self._check_request_info(operation.find("request/requestInfo"))
        if refused is not None:
            if self.cfg.request_info_errors == "fault":
                raise soap.SoapFault("Client", refused, detail=True, requirement="SHEP-2")
            answer = soap.send_message_response(envelope.version, refused, "", self.cfg.utc_offset_hours)
            answer.outcome, answer.summary = "rejected", f"status {refused.code}"
            answer.violations.append({"requirement": "SHEP-2", "message": refused.message})
            return answer
        if self.schema is not None and not self.schema.validate(operation):
            errors = "; ".join(f"строка {e.line}: {e.message}" for e in list(self.schema.error_log)[:5])
            raise soap.SoapFault("Client", texts.SCHEMA_INVALID.format(errors=errors), detail=True, requirement="X-1")
        return self._search(envelope.version, operation.find("request/requestData/data"))

    def _check_request_info(self, info: etree._Element | None) -> texts.Text | None:
        """SHEP-2: the error text for a missing messageId, an unknown sender or service, a wrong password."""

        def text(path: str) -> str:
            node = info.find(path) if info is not None else None
            return (node.text or "").strip() if node is not None else ""

        if not text("messageId"):
            return texts.MISSING_MESSAGE_ID
        sender = text("sender/senderId")
        if sender not in self.senders:
            return texts.UNKNOWN_SENDER.format(sender=sender)
        if self.senders[sender] != text("sender/password"):
            return texts.WRONG_PASSWORD.format(sender=sender)
        if text("serviceId") not in self.cfg.service_ids:
            return texts.UNKNOWN_SERVICE.format(service=text("serviceId"))
        return None

    def _search(self, version: str, data: etree._Element | None) -> Response:
        offset = self.cfg.utc_offset_hours
        success = texts.Text(self.cfg.success_code, texts.SUCCESS.message, texts.SEED)
        try:
            criteria = search.criteria_of(data)
        except search.SearchRefused as refused:
            answer = soap.send_message_response(version, success, search.data_xml(refused.text, []), offset)
            answer.outcome, answer.summary = "rejected", refused.text.message
            answer.violations.append({"requirement": "SHEP-3", "message": refused.text.message})
            return answer
        found = self.store.find(criteria.number, criteria.iin, criteria.passport)
        if not found:
            answer = soap.send_message_response(version, success, search.data_xml(texts.NOT_FOUND, []), offset)
            answer.outcome, answer.summary = "not_found", criteria.describe()
            return answer
        items = [self._item(exemption) for exemption in found]
        answer = soap.send_message_response(version, success, search.data_xml(success, items), offset)
        answer.summary = f"{criteria.describe()} found={len(found)}"
        return answer

    def _item(self, exemption: Exemption) -> str:
        if exemption.status == texts.UP_TO_DATE or self.cfg.certificates_for_every_status:
            return search.found_xml(
                exemption, self.certificates.base64(exemption, False), self.certificates.base64(exemption, True)
            )
        return search.found_xml(exemption, None, None)

    async def wsdl(self, request: Request) -> Response:
        host = request.headers.get("host", f"127.0.0.1:{self.cfg.port}")
        base = f"http://{host}{request.path}"
        query = request.query
        name = schemas.WSDL if "wsdl" in query or "WSDL" in query else query.get("xsd")
        if name is None:
            text = f"ШЭП SyncChannel v10 SendMessage: POST a SOAP envelope here; WSDL at {base}?wsdl\n"
            return Response(200, text.encode(), "text/plain; charset=utf-8")
        document = schemas.served(name, base, f"http://{host}{PATHS[0]}")
        if document is None:
            raise HttpError(404, f"no document {name!r}; served: {', '.join(schemas.documents())}")
        return Response(200, document, "text/xml; charset=utf-8")

    # -- errors and faults -----------------------------------------------------------------------------

    def _render_error(self, request: Request, status: int, message: str, code: str | None) -> Response:
        """Transport errors (413, 404, 405, our own 500) as SOAP faults of the version the request claims."""
        version = soap.version_of_content_type(request.headers.get("content-type", ""))
        if status == 413:
            fault = soap.SoapFault("Client", texts.TOO_LARGE.format(detail=message), status=413, requirement="X-5")
        elif status >= 500:
            fault = soap.SoapFault("Server", texts.INTERNAL.format(detail=message), status=status)
        else:
            fault = soap.SoapFault("Client", texts.TRANSPORT.format(detail=message), status=status)
        return soap.fault_response(version, fault, self.cfg.utc_offset_hours)

    def _render_fault(self, fault: Fault, request: Request) -> Response:
        version = soap.version_of_content_type(request.headers.get("content-type", ""))
        status = 503 if fault.kind == "maintenance" else fault.status
        text = texts.UNAVAILABLE if fault.kind == "maintenance" else texts.INTERNAL.format(detail="fault injected")
        if fault.message:
            text = texts.Text(text.code, fault.message, texts.RECONSTRUCTED)
        return soap.fault_response(version, soap.SoapFault("Server", text, status=status), self.cfg.utc_offset_hours)


_MESSAGE_ID = re.compile(rb"<(?:\w+:)?messageId>\s*([^<\s]{1,200})\s*</(?:\w+:)?messageId>")


def _message_id(body: bytes) -> dict[str, str]:
    """requestInfo/messageId for the journal's attributes, read without a second parse."""
    found = _MESSAGE_ID.search(body[:65536])
    return {"message_id": found.group(1).decode("utf-8", "replace")} if found else {}
