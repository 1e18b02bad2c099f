"""FER-specific admin routes (contracts/fer/admin.openapi.yaml): credentials, tokens, blocks, associations, seed."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from emulators.core.http import Handler, HttpError, Request, Response, json_response
from emulators.fer.booking import Result
from emulators.fer.demo import generate_region
from emulators.fer.epgu import EPGU_TAGS, REFERRAL_TAGS, SlotQuery, find_slots, group_slots

if TYPE_CHECKING:
    from emulators.fer.gateway import Gateway


def admin_handlers(gateway: Gateway) -> dict[str, Handler]:
    async def credentials_list(request: Request) -> Response:
        return json_response({"usernames": gateway.authority.usernames()})

    async def credentials_add(request: Request) -> Response:
        body = _object(request, "username", "password")
        gateway.add_credential(body["username"], body["password"])
        return json_response({"username": body["username"].strip()}, 201)

    async def tokens_expire(request: Request) -> Response:
        gateway.authority.expire_all()
        return json_response({"expired": True})

    async def blocks_list(request: Request) -> Response:
        rows = gateway.db.query("SELECT oid, reason FROM fer_block ORDER BY oid")
        blocked = [{"oid": oid, "reason": reason} for oid, reason in rows]
        return json_response({"blocked": blocked, "technical_errors": gateway.technical_errors})

    async def blocks_add(request: Request) -> Response:
        body = _object(request, "oid")
        gateway.block(body["oid"], str(body.get("reason") or "заблокировано через /__admin/fer/blocks"))
        return json_response({"blocked": body["oid"]}, 201)

    async def blocks_remove(request: Request) -> Response:
        return json_response({"unblocked": gateway.unblock(request.query.get("oid"))})

    async def associations_list(request: Request) -> Response:
        rows = gateway.associations.items()
        return json_response(
            {"associations_slots": [{"slot_id": s, "book_ext_id": b, "status": st} for s, (b, st) in rows]}
        )

    async def associations_add(request: Request) -> Response:
        body = _object(request, "slot_id", "book_ext_id")
        gateway.associate(body["slot_id"], body["book_ext_id"], "RECORDED")
        return json_response(body, 201)

    async def seed(request: Request) -> Response:
        body = request.json() if request.body.strip() else {}
        if not isinstance(body, dict):
            raise HttpError(400, 'expected a JSON object such as {"mo": 10, "days": 14, "seed": 1}')
        try:
            start = dt.date.fromisoformat(body["start"]) if body.get("start") else dt.date.today()
            options = {k: int(body.get(k, d)) for k, d in (("mo", 10), ("days", 14), ("seed", 1))}
        except (TypeError, ValueError) as exc:
            raise HttpError(400, f"bad seed options: {exc}") from exc
        if not 1 <= options["mo"] <= 2000 or not 1 <= options["days"] <= 120:
            raise HttpError(400, "mo must be 1..2000 and days 1..120")
        return json_response(load_region(gateway, options["seed"], options["mo"], options["days"], start), 201)

    async def epgu_book(request: Request) -> Response:
        body = request.json() if request.body.strip() else {}
        if not isinstance(body, dict):
            raise HttpError(400, 'expected a JSON object (every field optional), e.g. {"slot_id": "…"}')
        result = await gateway.booking.book(body)
        return _result(result)

    async def epgu_cancel(request: Request) -> Response:
        body = _object(request, "book_ext_id")
        return _result(await gateway.booking.cancel(body["book_ext_id"].strip()))

    async def epgu_slots(request: Request) -> Response:
        params = request.query
        try:
            query = SlotQuery(
                mo_id=params.get("mo_id"), speciality_id=params.get("speciality_id"),
                service_code=params.get("service_code"), profile_code=params.get("profile_code"),
                patient_age=int(params["age"]) if params.get("age") else None,
                date_from=dt.date.fromisoformat(params["date_from"]) if params.get("date_from") else dt.date.today(),
                days=int(params.get("days", 14)),
                tags=REFERRAL_TAGS if params.get("referral") in {"1", "true"} else EPGU_TAGS,
            )  # fmt: skip
        except ValueError as exc:
            raise HttpError(400, f"bad search parameter: {exc}") from exc
        slots = find_slots(gateway.showcase, query)
        return json_response({"count": len(slots), "groups": group_slots(slots), "first": slots[:1]})

    return {
        "admin.fer.epgu.book": epgu_book,
        "admin.fer.epgu.cancel": epgu_cancel,
        "admin.fer.epgu.slots": epgu_slots,
        "admin.fer.credentials.list": credentials_list,
        "admin.fer.credentials.add": credentials_add,
        "admin.fer.tokens.expire": tokens_expire,
        "admin.fer.blocks.list": blocks_list,
        "admin.fer.blocks.add": blocks_add,
        "admin.fer.blocks.remove": blocks_remove,
        "admin.fer.associations.list": associations_list,
        "admin.fer.associations.add": associations_add,
        "admin.fer.seed": seed,
    }


def load_region(gateway: Gateway, seed: int, mo: int, days: int, start: dt.date) -> dict[str, Any]:
    """Generate a region and load it through the same checks as an upload, one MO OID at a time."""
    region = generate_region(seed, mo, days, start)
    for username, password in region.credentials:
        gateway.add_credential(username, password)
    owner_of_mo = {record["id"]: record["parent_id"] for record in region.mo}
    counts: dict[str, int] = {}
    rejected = 0
    for entity, records in region.batches():
        by_owner: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_owner.setdefault(_owner(gateway, entity, record, owner_of_mo), []).append(record)
        for oid, batch in by_owner.items():
            response = gateway.upload(entity, oid, batch)
            rejected += len(batch) - len(_stored(response))
            counts[entity] = counts.get(entity, 0) + len(_stored(response))
    return {
        "loaded": counts,
        "rejected": rejected,
        "credentials": [{"username": u, "password": p} for u, p in region.credentials],
    }


def _owner(gateway: Gateway, entity: str, record: dict[str, Any], owner_of_mo: dict[str, str]) -> str:
    if entity == "mo":
        return str(record["parent_id"])
    if "mo_id" in record:
        return owner_of_mo.get(record["mo_id"], "")
    if entity == "referral":
        return str(record.get("from_mo_oid", ""))
    resource_mo = gateway.showcase.tables["resource"].value(record.get("resource_id", ""), "mo_id")
    return owner_of_mo.get(resource_mo or "", "")


def _stored(response: Response) -> list[str]:
    import orjson

    return list(orjson.loads(response.body).get("sendedGuids") or [])


def _object(request: Request, *required: str) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body[k].strip() for k in required):
        raise HttpError(400, f"expected a JSON object with string fields {', '.join(required)}")
    return body


def _result(result: Result) -> Response:
    response = json_response(result.as_dict())
    response.summary = f"{result.outcome}: {result.message}"[:200]
    return response
