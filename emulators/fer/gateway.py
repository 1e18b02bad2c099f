"""The FER 2.0 gateway + «Витрина данных» emulator: wiring, request handlers and FER admin routes."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from emulators import __version__
from emulators.core.admin import AdminBinding, mount_admin, render_admin_error
from emulators.core.config import Settings
from emulators.fer.settings import Credential, FerSettings
from emulators.core.contract import Contract, contracts_dir
from emulators.core.faults import Fault
from emulators.core.formats import is_date
from emulators.core.http import Handler, HttpApp, HttpError, Request, Response, bind_contract, json_response
from emulators.core.emulator import Emulator
from emulators.core.outbound import Outbound
from emulators.core.storage import Database, RecordLog
from emulators.fer import catalogue as texts
from emulators.fer.auth import Authority, Principal
from emulators.fer.booking import Booking
from emulators.fer.entities import ENTITY_SCHEMAS, load_entities
from emulators.fer.freshness import Freshness
from emulators.fer.showcase import Showcase
from emulators.fer.upload import Upload
from emulators.fer.webhooks import Webhooks, is_http_url

NAME = "fer"
GATEWAY_CONTRACT = "fer/gateway.openapi.yaml"
ADMIN_CONTRACT = "fer/admin.openapi.yaml"
MIS_CONTRACT = "fer/mis-booking.openapi.yaml"
FAULT_KINDS = ("delay", "status", "maintenance", "drop", "expire-token")
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fer_block (oid TEXT PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS fer_association (slot_id TEXT PRIMARY KEY, book_ext_id TEXT, status TEXT NOT NULL,"
    " at REAL NOT NULL)",
]


def envelope(status: int, **parts: Any) -> Response:
    """Приложение 2: isSuccess, [result], error, errors, sendedGuids, sendedGuidsToContactCenter, statusCode."""
    body: dict[str, Any] = {"isSuccess": status == 200}
    if "result" in parts:
        body["result"] = parts["result"]
    body["error"] = parts.get("error")
    body["errors"] = parts.get("errors")
    body["sendedGuids"] = parts.get("sended")
    body["sendedGuidsToContactCenter"] = parts.get("contact")
    body["statusCode"] = status
    return Response(status, orjson.dumps(body), outcome="ok" if status == 200 else "rejected")


def error_envelope(status: int, message: str | None = None, code: str | None = None) -> Response:
    text = texts.STATUS.get(status, texts.STATUS[500])
    return envelope(status, error={"errorMessage": message or text.template, "errorCode": code or text.code})


def auth_answer(status: int, message: str, result: dict[str, str] | None = None) -> Response:
    body = {"Result": result, "IsSuccess": result is not None, "ErrorMessage": message, "StatusCode": status}
    return Response(status, orjson.dumps(body), outcome="ok" if result else "rejected")


class Gateway(Emulator):
    """State and behaviour of one FER gateway; `app` is its ASGI application."""

    def __init__(self, settings: Settings, db: Database | None = None, clock: Callable[[], float] = time.time):
        super().__init__(NAME, settings, FAULT_KINDS)
        self.fer: FerSettings = settings.section(NAME)
        self.clock = clock
        self.db = db or Database(settings.resolved_database_url)
        self.db.ensure_schema(SCHEMA)
        self.health_checks["storage"] = self.db.health
        self.contract = Contract(contracts_dir() / GATEWAY_CONTRACT)
        self.entities = load_entities(self.contract)
        self.showcase = Showcase(RecordLog(self.db, "fer.showcase"))
        self.replayed = self.showcase.load()
        self.authority = Authority(self.db, self.fer, clock)
        self.freshness = Freshness(self.fer.slot_refresh_seconds, self.fer.other_refresh_seconds, clock)
        self.technical_errors: dict[str, int] = {}
        self.blocked = {row[0] for row in self.db.query("SELECT oid FROM fer_block")}  # read on every write
        # the gateway's associations_slots: slot_id -> (book_ext_id, status); in memory, written behind
        self.associations = {
            s: (b, st) for s, b, st in self.db.query("SELECT slot_id, book_ext_id, status FROM fer_association")
        }
        self.outbound = Outbound(self.journal, NAME)
        self.webhooks = Webhooks(self.db, self.outbound, self.fer.webhook_probe_timeout_seconds)
        self.booking = Booking(
            self.showcase, self.webhooks, self.outbound, Contract(contracts_dir() / MIS_CONTRACT),
            self.fer.booking_deadline_seconds, self.fer.booking_late_grace_seconds, self.associate, clock,
        )  # fmt: skip
        self.booking.followup_seconds = self.fer.followup_seconds
        self.app = HttpApp(NAME, self.journal, self.faults, self._render_error, render_admin_error,
                           self.fer.max_body_bytes)  # fmt: skip
        self.app.fault_hooks["expire-token"] = lambda fault, request: self.authority.expire_all()
        self.app.render_fault = self._render_fault
        self.app.on_shutdown.append(self._shutdown)
        bind_contract(self.app, self.contract, self._handlers())
        bind_contract(self.app, Contract(contracts_dir() / ADMIN_CONTRACT), self._admin_handlers(), admin=True)
        documents = {"gateway": GATEWAY_CONTRACT, "fer-admin": ADMIN_CONTRACT, "mis-booking": MIS_CONTRACT}
        counterpart = "ФЭР 2.0 шлюз + «Витрина данных «Запись к врачу»»"
        mount_admin(self.app, AdminBinding(NAME, __version__, counterpart, self.state, self.reset, documents,
                                           self.health))  # fmt: skip
        self.listen(self.app, self.fer.port)

    # -- errors and faults -------------------------------------------------------------------------

    def _render_error(self, request: Request, status: int, message: str, code: str | None) -> Response:
        if request.operation == "auth.token":
            return auth_answer(status, message)
        return error_envelope(status, message, code)

    def _render_fault(self, fault: Fault, request: Request) -> Response:
        status = 503 if fault.kind == "maintenance" else fault.status
        message = fault.message or texts.STATUS.get(status, texts.STATUS[500]).template
        return self._render_error(request, status, message, texts.STATUS.get(status, texts.STATUS[500]).code)

    async def _shutdown(self) -> None:
        await self.outbound.close()
        self.close()

    def close(self) -> None:
        if self.showcase.log is not None:
            self.showcase.log.close()
        self.db.flush()

    # -- handlers ----------------------------------------------------------------------------------

    def _handlers(self) -> dict[str, Handler]:
        handlers: dict[str, Handler] = {"auth.token": self.token}
        for entity in ENTITY_SCHEMAS:
            handlers[f"{entity}.upsert"] = self._api(self._upsert(entity), write=True)
            handlers[f"{entity}.get"] = self._api(self._get(entity))
            handlers[f"{entity}.delete"] = self._api(self._delete(entity), write=True)
        handlers["mo.byOid"] = handlers["mo.byOidShort"] = self._api(self.mo_by_oid)
        handlers["resource.byMo"] = self._api(self.resources_of_mo)
        handlers["slot.byResource"] = handlers["slot.byResourceCorrectSpelling"] = self._api(self.slots_of_resource)
        handlers["book.bySlot"] = self._api(self.books_of_slot)
        handlers["callback.register"] = self._api(self.register_webhook)
        handlers["callback.get"] = self._api(self.get_webhook)
        handlers["callback.delete"] = self._api(self.delete_webhook)
        handlers["callback.check"] = self._api(self.check_webhook)
        return handlers

    def _api(self, inner: Callable[[Request, Principal], Awaitable[Response]], write: bool = False) -> Handler:
        """Version (406), bearer token (401), blocked MO (405) and content type, before the operation."""

        async def guarded(request: Request) -> Response:
            version = request.headers.get("x-api-version", "1").strip()
            if version not in self.fer.supported_api_versions:
                raise HttpError(406, f"{texts.STATUS[406].template}: {version}")
            principal = self.authority.verify(request.headers.get("authorization"))
            if write and principal.oid in self.blocked:
                raise HttpError(405, texts.STATUS[405].format(mo=principal.oid), texts.STATUS[405].code)
            return await inner(request, principal)

        return guarded

    async def token(self, request: Request) -> Response:
        """POST /auth.svc (FER-AUTH-1, FER-AUTH-3)."""
        _require_json(request)
        try:
            body = request.json()
        except HttpError as exc:
            return auth_answer(400, texts.AUTH_BAD_REQUEST.format(reason=exc.message))
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("username", "password")):
            reason = 'ожидается объект {"username": "<OID МО>", "password": "<пароль>"} со строковыми значениями'
            return auth_answer(400, texts.AUTH_BAD_REQUEST.format(reason=reason))
        issued = self.authority.issue(body["username"], body["password"])
        if issued is None:
            return auth_answer(401, texts.AUTH_BAD_CREDENTIALS.template)
        token, valid_to = issued
        response = auth_answer(200, "", {"ValidTo": valid_to.strftime("%Y-%m-%dT%H:%M:%SZ"), "Value": token})
        response.summary = f"token for {body['username'].strip()}"
        return response

    def _upsert(self, entity: str) -> Callable[[Request, Principal], Awaitable[Response]]:
        async def upsert(request: Request, principal: Principal) -> Response:
            body = _json_body(request)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise HttpError(400, texts.NO_DATA.template, texts.NO_DATA.code)
            return self.upload(entity, principal.oid, body["data"])

        return upsert

    def upload(self, entity: str, oid: str, records: list[Any]) -> Response:
        """Check and store one batch as `oid`; the envelope of FER-ENV-1 with per-record errors."""
        now = dt.datetime.fromtimestamp(self.clock()).isoformat(timespec="seconds")
        outcome = Upload(
            self.entities[entity], self.showcase, oid, self.fer.enforce_mo_ownership, self.book_ext_id
        ).run(records, now)
        if outcome.stored:
            self.freshness.uploaded(oid, entity)
        contact = list(outcome.stored) if entity == "slot" else None
        if outcome.status == 200:
            response = envelope(200, sended=outcome.stored, contact=contact)
        else:
            message, code = outcome.top_error()
            errors = [{"id": p.key, "errorMessage": p.message, "errorCode": p.code} for p in outcome.problems]
            response = envelope(outcome.status, error={"errorMessage": message, "errorCode": code}, errors=errors,
                                sended=outcome.stored, contact=contact)  # fmt: skip
            response.violations = outcome.violations()
            self._count_technical_error(oid)
        response.notes = outcome.notes + self.booking.observe_upload(entity, outcome.stored)
        response.summary = f"{entity}: {len(outcome.stored)} stored, {len(outcome.problems)} error(s)"
        return response

    def _count_technical_error(self, oid: str) -> None:
        """FER-ENV-2: after block_after_errors rejected uploads the MO goes to enabled = NONE and gets 405."""
        count = self.technical_errors.get(oid, 0) + 1
        self.technical_errors[oid] = count
        limit = self.fer.block_after_errors
        if limit and count >= limit:
            self.block(oid, f"{count} технических ошибок (порог fer.block_after_errors = {limit})")
            self._disable_subdivisions(oid)

    def _disable_subdivisions(self, oid: str) -> None:
        rows = self.showcase.rows_where("mo", "parent_id", oid)
        records = [{**record, "enabled": "NONE"} for record, _, _ in rows]
        self.showcase.upsert("mo", oid, records)

    def _get(self, entity: str) -> Callable[[Request, Principal], Awaitable[Response]]:
        async def get(request: Request, principal: Principal) -> Response:
            key = _id_param(request)
            row = self.showcase.get(entity, key)
            if row is None:
                raise HttpError(404, texts.NOT_FOUND_ID.format(id=key), texts.NOT_FOUND_ID.code)
            return envelope(200, result=row[0])

        return get

    def _delete(self, entity: str) -> Callable[[Request, Principal], Awaitable[Response]]:
        async def delete(request: Request, principal: Principal) -> Response:
            key = _id_param(request)
            owner = self.showcase.owner(entity, key)
            if owner is None:
                raise HttpError(404, texts.NOT_FOUND_ID.format(id=key), texts.NOT_FOUND_ID.code)
            if self.fer.enforce_mo_ownership and owner != principal.oid:
                raise HttpError(403, texts.FOREIGN_MO.format(owner=owner, principal=principal.oid), "403")
            removed = self.showcase.delete(entity, key)
            response = envelope(200, sended=[key])
            cascade = {name: len(keys) for name, keys in removed.items() if name != entity}
            response.summary = f"{entity} {key} deleted" + (f", cascade {cascade}" if cascade else "")
            return response

        return delete

    async def mo_by_oid(self, request: Request, principal: Principal) -> Response:
        return _listing(self.showcase.rows_where("mo", "parent_id", request.path_params["oid"]))

    async def resources_of_mo(self, request: Request, principal: Principal) -> Response:
        mo_id = request.path_params["mo_id"]
        if self.showcase.get("mo", mo_id) is None:
            raise HttpError(404, texts.NOT_FOUND_ID.format(id=mo_id), texts.NOT_FOUND_ID.code)
        return _listing(self.showcase.rows_where("resource", "mo_id", mo_id))

    async def slots_of_resource(self, request: Request, principal: Principal) -> Response:
        resource_id = request.path_params["resource_id"]
        if self.showcase.get("resource", resource_id) is None:
            raise HttpError(404, texts.NOT_FOUND_ID.format(id=resource_id), texts.NOT_FOUND_ID.code)
        start, end = _date_param(request, "startDate"), _date_param(request, "endDate")
        rows = self.showcase.rows_where("slot", "resource_id", resource_id)
        chosen = [r for r in rows if (start is None or r[2][2][:10] >= start) and (end is None or r[2][2][:10] <= end)]
        chosen.sort(key=lambda r: r[2][2])
        return _listing(chosen)

    async def books_of_slot(self, request: Request, principal: Principal) -> Response:
        slot_id = request.path_params["slot_id"]
        if self.showcase.get("slot", slot_id) is None:
            raise HttpError(404, texts.NOT_FOUND_ID.format(id=slot_id), texts.NOT_FOUND_ID.code)
        return _listing(self.showcase.rows_where("book", "slot_id", slot_id))

    # -- webhook (ответный сервис) ----------------------------------------------------------------------

    async def register_webhook(self, request: Request, principal: Principal) -> Response:
        """POST /api/callback (FER-CB-1): probe `GET {address}/booking/book`, register only on 200."""
        body = _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("address"), str):
            raise HttpError(400, texts.WEBHOOK_BODY.template, texts.WEBHOOK_BODY.code)
        depart_oid = body.get("depart_oid") or ""
        if not isinstance(depart_oid, str):
            raise HttpError(400, texts.WEBHOOK_BODY.template, texts.WEBHOOK_BODY.code)
        return await self._register(principal.oid, depart_oid.strip(), body["address"].strip())

    async def _register(self, oid: str, depart_oid: str, address: str) -> Response:
        if not is_http_url(address):
            raise HttpError(400, texts.WEBHOOK_BAD_ADDRESS.format(address=address), texts.WEBHOOK_BAD_ADDRESS.code)
        probe = await self.webhooks.probe(address)
        if not probe.available:
            text = texts.WEBHOOK_UNREACHABLE
            raise HttpError(400, text.format(reason=probe.message), text.code)
        self.webhooks.register(oid, depart_oid, address)
        response = json_response({"address": address})
        response.summary = f"webhook of {oid}{' / ' + depart_oid if depart_oid else ''} -> {address}"
        if depart_oid and not any(
            record.get("branch_oid") == depart_oid for record, _, _ in self.showcase.rows_where("mo", "parent_id", oid)
        ):
            response.notes.append(f"depart_oid {depart_oid} is not the branch_oid of any uploaded subdivision of {oid}")
        return response

    async def get_webhook(self, request: Request, principal: Principal) -> Response:
        """GET /api/callback (FER-CB-2); with `address` it is the seed's «Обновление вебхука»."""
        depart_oid = request.query.get("depart_oid", "").strip()
        if "address" in request.query:
            return await self._register(principal.oid, depart_oid, request.query["address"].strip())
        return _webhook_answer(self.webhooks.address(principal.oid, depart_oid), depart_oid or principal.oid)

    async def delete_webhook(self, request: Request, principal: Principal) -> Response:
        depart_oid = request.query.get("depart_oid", "").strip()
        return _webhook_answer(self.webhooks.remove(principal.oid, depart_oid), depart_oid or principal.oid)

    async def check_webhook(self, request: Request, principal: Principal) -> Response:
        """GET /api/callback/check?address= (FER-CB-2): reachability, without registering."""
        address = request.query.get("address", "").strip()
        if not is_http_url(address):
            raise HttpError(400, texts.WEBHOOK_BAD_ADDRESS.format(address=address), texts.WEBHOOK_BAD_ADDRESS.code)
        probe = await self.webhooks.probe(address)
        return json_response(
            {"address": address, "available": probe.available, "status": probe.status, "message": probe.message,
             "latency_ms": probe.latency_ms}
        )  # fmt: skip

    # -- blocks and associations -----------------------------------------------------------------------

    def block(self, oid: str, reason: str) -> None:
        self.db.execute(
            "INSERT INTO fer_block (oid, reason, at) VALUES (?, ?, ?)"
            " ON CONFLICT(oid) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            (oid, reason, self.clock()),
        )
        self.blocked.add(oid)

    def unblock(self, oid: str | None) -> int:
        """Lift the 405 of one OID (or all) and forget its technical-error count."""
        if oid:
            removed = self.db.execute("DELETE FROM fer_block WHERE oid = ?", (oid,))
            self.technical_errors.pop(oid, None)
            self.blocked.discard(oid)
        else:
            removed = self.db.execute("DELETE FROM fer_block")
            self.technical_errors.clear()
            self.blocked.clear()
        return removed

    def book_ext_id(self, slot_id: str) -> str | None:
        found = self.associations.get(slot_id)
        return found[0] if found else None

    def associate(self, slot_id: str, book_ext_id: str | None, status: str) -> None:
        self.associations[slot_id] = (book_ext_id, status)
        self.db.defer(
            "INSERT INTO fer_association (slot_id, book_ext_id, status, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(slot_id) DO UPDATE SET book_ext_id = excluded.book_ext_id, status = excluded.status,"
            " at = excluded.at",
            (slot_id, book_ext_id, status, self.clock()),
        )

    # -- admin -----------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        blocks = self.db.query("SELECT oid, reason, at FROM fer_block ORDER BY oid")
        return {
            "emulator": NAME,
            "showcase": self.showcase.counts(),
            "log": {
                "entries": self.showcase.log.entries if self.showcase.log else 0,
                "replayed_at_start": self.replayed,
                "failed_writes": self.showcase.log.failed_writes if self.showcase.log else 0,
            },
            "credentials": self.authority.usernames(),
            "blocked": [{"oid": o, "reason": r} for o, r, _ in blocks],
            "technical_errors": self.technical_errors,
            "freshness": self.freshness.report(),
            "associations": len(self.associations),
            "webhooks": self.webhooks.all(),
            "bookings": self.booking.bookings(),
        }

    def reset(self) -> None:
        self.showcase.clear()
        self.authority.reset()
        self.freshness.clear()
        self.unblock(None)
        self.associations.clear()
        self.db.defer("DELETE FROM fer_association")
        self.webhooks.clear()
        self.booking.clear()

    def _admin_handlers(self) -> dict[str, Handler]:
        from emulators.fer.admin import admin_handlers

        return admin_handlers(self)

    def add_credential(self, username: str, password: str) -> None:
        self.authority.set_credential(Credential(username, password))


def _webhook_answer(address: str | None, whom: str) -> Response:
    """Таблица 2 `{address}`, or 404 when no webhook is registered for `whom`."""
    if address is None:
        raise HttpError(404, texts.WEBHOOK_NONE.format(whom=whom), texts.WEBHOOK_NONE.code)
    return json_response({"address": address})


def _json_body(request: Request) -> Any:
    """The JSON body of an /api call; 400 in the showcase's words for a wrong content type or bad JSON."""
    _require_json(request)
    try:
        return request.json()
    except HttpError as exc:
        raise HttpError(400, texts.NOT_JSON.format(reason=exc.message), texts.NOT_JSON.code) from exc


def _require_json(request: Request) -> None:
    kind = request.headers.get("content-type", "")
    if kind.split(";", 1)[0].strip().lower() not in {"application/json", "text/json"}:
        text = texts.WRONG_CONTENT_TYPE
        raise HttpError(400, text.format(content_type=kind or "не указан"), text.code)


def _id_param(request: Request) -> str:
    key = request.query.get("id", "").strip()
    if not key:
        raise HttpError(400, texts.ID_REQUIRED.format(name="id"), texts.ID_REQUIRED.code)
    return key


def _date_param(request: Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()
    if not value:
        return None
    if not is_date(value):
        raise HttpError(400, texts.BAD_DATE_PARAM.format(name=name), texts.BAD_DATE_PARAM.code)
    return value


def _listing(rows: list[Any]) -> Response:
    return envelope(200, result=[row[0] for row in rows])
