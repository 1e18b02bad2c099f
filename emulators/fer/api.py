"""The handlers of contracts/fer/gateway.openapi.yaml: one per operationId, built from the shared `Services`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from emulators.core.formats import is_oid
from emulators.core.http import Handler, HttpError, Request, Response, json_response
from emulators.fer import catalogue as texts
from emulators.fer.auth import Principal
from emulators.fer.entities import ENTITY_SCHEMAS
from emulators.fer.envelope import (
    auth_answer, date_param, envelope, id_param, json_body, listing, not_json_reason, require_json,
)  # fmt: skip
from emulators.fer.services import Services
from emulators.fer.webhooks import is_http_url

Inner = Callable[[Request, Principal], Awaitable[Response]]


def api_handlers(services: Services) -> dict[str, Handler]:
    """Every operation of the gateway contract, keyed by operationId."""
    api = Api(services)
    handlers: dict[str, Handler] = {"auth.token": api.token}
    for entity in ENTITY_SCHEMAS:
        handlers[f"{entity}.upsert"] = api.guarded(api.upsert(entity), write=True)
        handlers[f"{entity}.get"] = api.guarded(api.get(entity))
        handlers[f"{entity}.delete"] = api.guarded(api.delete(entity), write=True)
    handlers["mo.byOid"] = handlers["mo.byOidShort"] = api.guarded(api.mo_by_oid)
    handlers["resource.byMo"] = api.guarded(api.resources_of_mo)
    handlers["slot.byResource"] = handlers["slot.byResourceCorrectSpelling"] = api.guarded(api.slots_of_resource)
    handlers["book.bySlot"] = api.guarded(api.books_of_slot)
    handlers["callback.register"] = api.guarded(api.register_webhook)
    handlers["callback.get"] = api.guarded(api.get_webhook)
    handlers["callback.delete"] = api.guarded(api.delete_webhook)
    handlers["callback.check"] = api.guarded(api.check_webhook)
    return handlers


class Api:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.showcase = services.showcase

    def guarded(self, inner: Inner, write: bool = False) -> Handler:
        """Version (406), bearer token (401), blocked MO (405) and content type, before the operation."""
        fer, authority, blocks = self.services.fer, self.services.authority, self.services.blocks

        async def guarded(request: Request) -> Response:
            version = request.headers.get("x-api-version", "1").strip()
            if version not in fer.supported_api_versions:
                raise HttpError(406, f"{texts.STATUS[406].template}: {version}")
            principal = authority.verify(request.headers.get("authorization"))
            if write and blocks.is_blocked(principal.oid):
                raise HttpError(405, texts.STATUS[405].format(mo=principal.oid), texts.STATUS[405].code)
            return await inner(request, principal)

        return guarded

    async def token(self, request: Request) -> Response:
        """POST /auth.svc (FER-AUTH-1, FER-AUTH-3)."""
        require_json(request)
        body = _json_or_none(request.body)
        if body is _NOT_JSON:
            return auth_answer(400, texts.AUTH_BAD_REQUEST.format(reason=not_json_reason(request.body)))
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("username", "password")):
            reason = 'ожидается объект {"username": "<OID МО>", "password": "<пароль>"} со строковыми значениями'
            return auth_answer(400, texts.AUTH_BAD_REQUEST.format(reason=reason))
        issued = self.services.authority.issue(body["username"], body["password"])
        if issued is None:
            return auth_answer(401, texts.AUTH_BAD_CREDENTIALS.template)
        token, valid_to = issued
        response = auth_answer(200, "", {"ValidTo": valid_to.strftime("%Y-%m-%dT%H:%M:%SZ"), "Value": token})
        response.summary = f"token for {body['username'].strip()}"
        return response

    def upsert(self, entity: str) -> Inner:
        async def upsert(request: Request, principal: Principal) -> Response:
            body = json_body(request)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise HttpError(400, texts.NO_DATA.template, texts.NO_DATA.code)
            stored = self.services.upload(entity, principal.oid, body["data"])
            await self.showcase.durable(stored.ticket)  # answered 200 = committed (survives SIGKILL)
            return stored.response

        return upsert

    def get(self, entity: str) -> Inner:
        async def get(request: Request, principal: Principal) -> Response:
            key = id_param(request)
            record = self.showcase.record(entity, key)
            if record is None:
                raise HttpError(404, texts.NOT_FOUND_ID.format(id=key), texts.NOT_FOUND_ID.code)
            return envelope(200, result=record)

        return get

    def delete(self, entity: str) -> Inner:
        async def delete(request: Request, principal: Principal) -> Response:
            key = id_param(request)
            owner = self.showcase.owner(entity, key)
            if owner is None:
                raise HttpError(404, texts.NOT_FOUND_ID.format(id=key), texts.NOT_FOUND_ID.code)
            if not self.services.may_write_anywhere(principal.oid) and owner != principal.oid:
                raise HttpError(403, texts.FOREIGN_MO.format(owner=owner, principal=principal.oid), "403")
            removed, ticket = self.showcase.delete(entity, key)
            await self.showcase.durable(ticket)
            response = envelope(200, sended=[key])
            cascade = {name: len(keys) for name, keys in removed.items() if name != entity}
            response.summary = f"{entity} {key} deleted" + (f", cascade {cascade}" if cascade else "")
            return response

        return delete

    async def mo_by_oid(self, request: Request, principal: Principal) -> Response:
        oid = request.path_params["oid"]
        if not is_oid(oid):
            raise HttpError(400, texts.BAD_OID_PARAM.format(oid=oid), texts.BAD_OID_PARAM.code)
        return listing(self.showcase.rows_where("mo", "parent_id", oid))

    async def resources_of_mo(self, request: Request, principal: Principal) -> Response:
        mo_id = request.path_params["mo_id"]
        if not self.showcase.exists("mo", mo_id):
            raise HttpError(404, texts.NOT_FOUND_ID.format(id=mo_id), texts.NOT_FOUND_ID.code)
        return listing(self.showcase.rows_where("resource", "mo_id", mo_id))

    async def slots_of_resource(self, request: Request, principal: Principal) -> Response:
        resource_id = request.path_params["resource_id"]
        if not self.showcase.exists("resource", resource_id):
            raise HttpError(404, texts.NOT_FOUND_ID.format(id=resource_id), texts.NOT_FOUND_ID.code)
        start, end = date_param(request, "startDate"), date_param(request, "endDate")
        if start and end and start > end:
            raise HttpError(400, texts.DATES_REVERSED.format(start=start, end=end), texts.DATES_REVERSED.code)
        slots = self.showcase.slots_between([resource_id], f"{start or '0000-00-00'}T", f"{end or '9999-99-99'}T99")
        slots.sort(key=lambda s: (s.visit_time, s.id))
        return envelope(200, result=[self.showcase.record("slot", slot.id) for slot in slots])

    async def books_of_slot(self, request: Request, principal: Principal) -> Response:
        slot_id = request.path_params["slot_id"]
        if not self.showcase.exists("slot", slot_id):
            raise HttpError(404, texts.NOT_FOUND_ID.format(id=slot_id), texts.NOT_FOUND_ID.code)
        return listing(self.showcase.rows_where("book", "slot_id", slot_id))

    # -- webhook (ответный сервис) ----------------------------------------------------------------------

    async def register_webhook(self, request: Request, principal: Principal) -> Response:
        """POST /api/callback (FER-CB-1): probe `GET {address}/booking/book`, register only on 200."""
        body = json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("address"), str):
            raise HttpError(400, texts.WEBHOOK_BODY.template, texts.WEBHOOK_BODY.code)
        depart_oid = body.get("depart_oid") or ""
        if not isinstance(depart_oid, str):
            raise HttpError(400, texts.WEBHOOK_BODY.template, texts.WEBHOOK_BODY.code)
        return await self._register(principal.oid, depart_oid.strip(), body["address"].strip())

    async def _register(self, oid: str, depart_oid: str, address: str) -> Response:
        if not is_http_url(address):
            raise HttpError(400, texts.WEBHOOK_BAD_ADDRESS.format(address=address), texts.WEBHOOK_BAD_ADDRESS.code)
        webhooks = self.services.webhooks
        probe = await webhooks.probe(address)
        if not probe.available:
            text = texts.WEBHOOK_UNREACHABLE
            raise HttpError(400, text.format(reason=probe.message), text.code)
        webhooks.register(oid, depart_oid, address)
        response = json_response({"address": address})
        response.summary = f"webhook of {oid}{' / ' + depart_oid if depart_oid else ''} -> {address}"
        subdivisions = self.showcase.rows_where("mo", "parent_id", oid)
        if depart_oid and not any(row.record.get("branch_oid") == depart_oid for row in subdivisions):
            response.notes.append(f"depart_oid {depart_oid} is not the branch_oid of any uploaded subdivision of {oid}")
        return response

    async def get_webhook(self, request: Request, principal: Principal) -> Response:
        """GET /api/callback (FER-CB-2); with `address` it is the seed's «Обновление вебхука»."""
        depart_oid = request.query.get("depart_oid", "").strip()
        if "address" in request.query:
            return await self._register(principal.oid, depart_oid, request.query["address"].strip())
        return _webhook_answer(self.services.webhooks.address(principal.oid, depart_oid), depart_oid or principal.oid)

    async def delete_webhook(self, request: Request, principal: Principal) -> Response:
        depart_oid = request.query.get("depart_oid", "").strip()
        return _webhook_answer(self.services.webhooks.remove(principal.oid, depart_oid), depart_oid or principal.oid)

    async def check_webhook(self, request: Request, principal: Principal) -> Response:
        """GET /api/callback/check?address= (FER-CB-2): reachability, without registering."""
        address = request.query.get("address", "").strip()
        if not is_http_url(address):
            raise HttpError(400, texts.WEBHOOK_BAD_ADDRESS.format(address=address), texts.WEBHOOK_BAD_ADDRESS.code)
        probe = await self.services.webhooks.probe(address)
        return json_response(
            {"address": address, "available": probe.available, "status": probe.status, "message": probe.message,
             "latency_ms": probe.latency_ms}
        )  # fmt: skip


def _webhook_answer(address: str | None, whom: str) -> Response:
    """Таблица 2 `{address}`, or 404 when no webhook is registered for `whom`."""
    if address is None:
        raise HttpError(404, texts.WEBHOOK_NONE.format(whom=whom), texts.WEBHOOK_NONE.code)
    return json_response({"address": address})


_NOT_JSON = object()


def _json_or_none(body: bytes) -> Any:
    import orjson

    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _NOT_JSON
