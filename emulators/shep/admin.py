"""ШЭП-specific admin routes (contracts/shep/admin.openapi.yaml): senders, exemptions, certificates."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from random import Random
from typing import TYPE_CHECKING, Any

from emulators.core.http import Handler, HttpError, Request, Response, json_response
from emulators.shep.store import Exemption, ExemptionError, generate

if TYPE_CHECKING:
    from emulators.shep.service import Shep

FIELDS = {f.name for f in dataclasses.fields(Exemption)}
ALIASES = {
    "passportNumber": "passport_number",
    "citizenshipCode": "citizenship_code",
    "procedure": "procedure_code",
    "temporaryContraindicationEndDate": "end_date",
    "revocationReason": "revocation_reason",
}


def _object(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise HttpError(400, "expected a JSON object")
    return body


def exemption_from(body: dict[str, Any], number: str) -> Exemption:
    """An exemption from the admin body: given fields kept, the rest generated from `seed` (X-4)."""
    given = {ALIASES.get(k, k): v for k, v in body.items() if k != "seed"}
    unknown = sorted(set(given) - FIELDS)
    if unknown:
        raise HttpError(400, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(FIELDS))}, seed")
    if any(value is not None and not isinstance(value, str) for value in given.values()):
        raise HttpError(400, "every exemption field is a string")
    seed = body.get("seed", number)
    number = given.pop("number", None) or number
    try:
        return generate(Random(str(seed)), number, dt.date.today(), **given)
    except ExemptionError as exc:
        raise HttpError(400, str(exc)) from exc


def admin_handlers(shep: Shep) -> dict[str, Handler]:
    store = shep.store

    async def senders_list(request: Request) -> Response:
        return json_response({"senders": sorted(shep.senders)})

    async def senders_add(request: Request) -> Response:
        body = _object(request)
        sender, password = body.get("senderId"), body.get("password")
        if not isinstance(sender, str) or not sender.strip() or not isinstance(password, str):
            raise HttpError(400, 'expected {"senderId": "...", "password": "..."}')
        shep.add_sender(sender.strip(), password)
        return json_response({"senderId": sender.strip()}, 201)

    async def exemptions_list(request: Request) -> Response:
        query = request.query
        passport = (query["passport"], query.get("citizenship", "")) if "passport" in query else None
        if any(k in query for k in ("number", "iin", "passport")):
            found = store.find(query.get("number"), query.get("iin"), passport)
        else:
            found = list(store.by_number.values())
        return json_response({"exemptions": [e.as_dict() for e in found], "count": len(found)})

    async def exemptions_add(request: Request) -> Response:
        number = f"M{len(store) + 1:06d}"
        while number in store.by_number:
            number = "M" + number
        exemption = exemption_from(_object(request), number)
        store.put([exemption])
        return json_response(exemption.as_dict(), 201)

    async def exemptions_generate(request: Request) -> Response:
        body = _object(request) if request.body.strip() else {}
        seed, count = body.get("seed", 1), body.get("count", 10)
        if not isinstance(seed, int) or not isinstance(count, int) or not 0 <= count <= 10_000:
            raise HttpError(400, "seed and count (0..10000) must be whole numbers")
        made = shep.populate(seed, count)
        return json_response({"generated": len(made), "numbers": [e.number for e in made]}, 201)

    async def exemption_get(request: Request) -> Response:
        return json_response(_exemption(shep, request).as_dict())

    async def certificate(request: Request) -> Response:
        exemption = _exemption(shep, request)
        printable = request.query.get("printable", "").lower() in {"1", "true", "yes"}
        pdf = base64.b64decode(shep.certificates.base64(exemption, printable))
        return Response(200, pdf, "application/pdf")

    return {
        "admin.shep.senders.list": senders_list,
        "admin.shep.senders.add": senders_add,
        "admin.shep.exemptions.list": exemptions_list,
        "admin.shep.exemptions.add": exemptions_add,
        "admin.shep.exemptions.generate": exemptions_generate,
        "admin.shep.exemptions.get": exemption_get,
        "admin.shep.exemptions.certificate": certificate,
    }


def _exemption(shep: Shep, request: Request) -> Exemption:
    number = request.path_params["number"]
    found = shep.store.by_number.get(number)
    if found is None:
        raise HttpError(404, f"no exemption {number!r}")
    return found
