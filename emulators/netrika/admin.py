"""Netrika-specific admin routes (contracts/netrika/admin.openapi.yaml): policy, send, messages, sites, intake."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from emulators.core.delivery import STATES, Policy, PolicyError
from emulators.core.http import Handler, HttpError, Request, Response, json_response
from emulators.netrika.intake import ScriptError
from emulators.netrika.sites import SiteError

if TYPE_CHECKING:
    from emulators.netrika.emulator import Netrika


def admin_handlers(netrika: Netrika) -> dict[str, Handler]:
    from emulators.netrika.emulator import SendError

    engine = netrika.engine

    async def policy_get(request: Request) -> Response:
        return json_response(engine.policy.as_dict())

    async def policy_set(request: Request) -> Response:
        try:
            engine.set_policy(Policy.from_dict(request.json(), engine.policy))
        except (PolicyError, TypeError) as exc:
            raise HttpError(400, str(exc)) from exc
        return json_response(engine.policy.as_dict())

    async def send(request: Request) -> Response:
        body = _object(request)
        allowed = {"message_type", "base_url", "site", "status", "fields", "spelling", "delay_s"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise HttpError(400, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        fields, delay = body.get("fields", {}), body.get("delay_s", 0)
        if not isinstance(fields, dict):
            raise HttpError(400, "fields must be an object of message fields")
        if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
            raise HttpError(400, "delay_s must be a number of seconds, 0 or more")
        for name in ("message_type", "base_url", "site", "status", "spelling"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise HttpError(400, f"{name} must be a string")
        try:
            sent = netrika.send(str(body.get("message_type")), body.get("status", "Success"), fields,
                                body.get("base_url"), body.get("site"), body.get("spelling"),
                                time.time() + delay if delay else None)  # fmt: skip
        except SendError as exc:
            raise HttpError(exc.status, str(exc)) from exc
        return json_response(sent.as_dict(), 201)

    async def messages_list(request: Request) -> Response:
        state = request.query.get("state")
        if state is not None and state not in STATES:
            raise HttpError(400, f"state must be one of {', '.join(STATES)}")
        limit = _limit(request)
        found = engine.messages(request.query.get("site"), state, limit)
        return json_response({"messages": found, "count": len(found)})

    async def messages_get(request: Request) -> Response:
        shown = engine.message(_id(request))
        if shown is None:
            raise HttpError(404, f"no message {request.path_params['id']}")
        return json_response(shown)

    async def messages_resend(request: Request) -> Response:
        delivery_id = _id(request)
        shown = engine.message(delivery_id)
        if shown is None:
            raise HttpError(404, f"no message {delivery_id}")
        if not engine.resend(delivery_id):
            raise HttpError(409, f"message {delivery_id} is {shown['state']}: only a dead message is re-sent by hand")
        return json_response(engine.message(delivery_id))

    async def counts(request: Request) -> Response:
        return json_response({"sites": engine.counts()})

    async def sites_list(request: Request) -> Response:
        per_site = engine.counts()
        empty = dict.fromkeys(STATES, 0)
        sites = [{**s.as_dict(), "messages": per_site.get(s.site, empty)} for s in netrika.sites.all()]
        return json_response({"sites": sites})

    async def sites_add(request: Request) -> Response:
        body = _object(request)
        site, base_url, lpu = body.get("site"), body.get("base_url"), body.get("lpu", [])
        if not isinstance(site, str) or not isinstance(base_url, str):
            raise HttpError(400, 'expected {"site": "<name>", "base_url": "http://…"} (and optionally "lpu": [...])')
        if not isinstance(lpu, list) or not all(isinstance(x, str) for x in lpu):
            raise HttpError(400, "lpu must be a list of МО identifiers (strings)")
        try:
            added = netrika.sites.add(site.strip(), base_url, tuple(lpu))
        except SiteError as exc:
            raise HttpError(exc.status, str(exc)) from exc
        return json_response(added.as_dict(), 201)

    async def sites_remove(request: Request) -> Response:
        site = request.path_params["site"]
        if not netrika.sites.remove(site):
            raise HttpError(404, f"no site {site!r}")
        return json_response({"removed": site})

    async def scripts_list(request: Request) -> Response:
        return json_response({"scripts": netrika.intake.scripts()})

    async def scripts_add(request: Request) -> Response:
        try:
            waiting = netrika.intake.add_script(_object(request))
        except ScriptError as exc:
            raise HttpError(400, str(exc)) from exc
        return json_response({"waiting": waiting}, 201)

    async def scripts_clear(request: Request) -> Response:
        return json_response({"removed": netrika.intake.clear_scripts()})

    async def documents_list(request: Request) -> Response:
        return json_response({"documents": netrika.intake.documents(_limit(request))})

    return {
        "admin.netrika.policy.get": policy_get,
        "admin.netrika.policy.set": policy_set,
        "admin.netrika.send": send,
        "admin.netrika.messages.list": messages_list,
        "admin.netrika.messages.get": messages_get,
        "admin.netrika.messages.resend": messages_resend,
        "admin.netrika.counts": counts,
        "admin.netrika.sites.list": sites_list,
        "admin.netrika.sites.add": sites_add,
        "admin.netrika.sites.remove": sites_remove,
        "admin.netrika.intake.scripts.list": scripts_list,
        "admin.netrika.intake.scripts.add": scripts_add,
        "admin.netrika.intake.scripts.clear": scripts_clear,
        "admin.netrika.documents.list": documents_list,
    }


def _object(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise HttpError(400, "expected a JSON object")
    return body


def _id(request: Request) -> int:
    raw = request.path_params["id"]
    if not raw.isdigit():
        raise HttpError(404, f"no message {raw}")
    return int(raw)


def _limit(request: Request) -> int:
    raw = request.query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise HttpError(400, "limit must be a whole number from 1 to 10000")
    return int(raw)
