"""FER-specific admin routes (contracts/fer/admin.openapi.yaml): credentials, tokens, blocks, associations, seed, ЕПГУ.

Admin-surface texts are English; the seed's own texts appear only as quoted data (`description`, `user_message`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from emulators.core.http import Handler, HttpError, Request, Response, json_response
from emulators.fer.answers import Result
from emulators.fer.search import EPGU_TAGS, REFERRAL_TAGS, SlotQuery, day_counts, days_open, find_slots
from emulators.fer.seeding import load_region
from emulators.fer.services import Services


def admin_handlers(services: Services) -> dict[str, Handler]:
    async def credentials_list(request: Request) -> Response:
        return json_response({"usernames": services.authority.usernames()})

    async def credentials_add(request: Request) -> Response:
        body = _object(request, "username", "password")
        services.add_credential(body["username"], body["password"])
        return json_response({"username": body["username"].strip()}, 201)

    async def tokens_expire(request: Request) -> Response:
        services.authority.expire_all()
        return json_response({"expired": True})

    async def blocks_list(request: Request) -> Response:
        return json_response({"blocked": services.blocks.listing(), "technical_errors": services.blocks.technical_errors})

    async def blocks_add(request: Request) -> Response:
        body = _object(request, "oid")
        services.blocks.block(body["oid"], str(body.get("reason") or "blocked through /__admin/fer/blocks"))
        return json_response({"blocked": body["oid"]}, 201)

    async def blocks_remove(request: Request) -> Response:
        return json_response({"unblocked": services.blocks.unblock(request.query.get("oid"))})

    async def associations_list(request: Request) -> Response:
        rows = services.associations.items()
        return json_response({"associations_slots": [{"slot_id": s, "book_ext_id": b, "status": st} for s, b, st in rows]})

    async def associations_add(request: Request) -> Response:
        body = _object(request, "slot_id", "book_ext_id")
        await services.db.durable(services.associations.set(body["slot_id"], body["book_ext_id"], "RECORDED"))
        return json_response(body, 201)

    async def seed(request: Request) -> Response:
        body = _optional_object(request, '{"mo": 10, "days": 14, "seed": 1}')
        options = {k: _whole(body.get(k, d), k) for k, d in (("mo", 10), ("days", 14), ("seed", 1))}
        start = _date(body.get("start"), "start") or dt.date.today()
        if not 1 <= options["mo"] <= 2000 or not 1 <= options["days"] <= 120:
            raise HttpError(400, "mo must be 1..2000 and days 1..120")
        loaded = load_region(services, options["seed"], options["mo"], options["days"], start)
        await services.showcase.durable(services.showcase.last_ticket)
        return json_response(loaded, 201)

    async def epgu_book(request: Request) -> Response:
        body = _optional_object(request, '{"slot_id": "…"} (every field optional)')
        return _result(await services.booking.book(body))

    async def epgu_cancel(request: Request) -> Response:
        body = _object(request, "book_ext_id")
        return _result(await services.booking.cancel(body["book_ext_id"].strip(), force=body.get("force") is True))

    async def epgu_slots(request: Request) -> Response:
        query = _slot_query(request.query)
        now = services.booking.now()
        slots = find_slots(services.showcase, query, now)
        groups = day_counts(services.showcase, query, now)
        first = services.showcase.record("slot", slots[0].id) if slots else None
        return json_response({"count": len(slots), "days": days_open(groups), "groups": groups,
                              "first": [first] if first else []})  # fmt: skip

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


def _slot_query(params: dict[str, str]) -> SlotQuery:
    age = params.get("age")
    mo_id = params.get("mo_id")
    return SlotQuery(
        mo_ids=frozenset({mo_id}) if mo_id else None, owner=params.get("mo_oid") or None,
        speciality_id=params.get("speciality_id"), service_code=params.get("service_code"),
        profile_code=params.get("profile_code"),
        patient_age=_whole(age, "age") if age else None,
        date_from=_date(params.get("date_from"), "date_from"),
        days=_whole(params.get("days", 14), "days"),
        tags=REFERRAL_TAGS if params.get("referral") in {"1", "true"} else EPGU_TAGS,
    )  # fmt: skip


def _parsed(request: Request) -> Any:
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise HttpError(400, "the body is not valid JSON (UTF-8)") from None


def _object(request: Request, *required: str) -> dict[str, Any]:
    body = _parsed(request)
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body[k].strip() for k in required):
        raise HttpError(400, f"expected a JSON object with string fields {', '.join(required)}")
    return body


def _optional_object(request: Request, example: str) -> dict[str, Any]:
    body = _parsed(request) if request.body.strip() else {}
    if not isinstance(body, dict):
        raise HttpError(400, f"expected a JSON object such as {example}")
    return body


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise HttpError(400, f"{name} must be a whole number, got {value!r}")
    return int(value)


def _date(value: Any, name: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise HttpError(400, f"{name} must be a date YYYY-MM-DD, got {value!r}")


def _result(result: Result) -> Response:
    response = json_response(result.as_dict())
    response.summary = f"{result.outcome}: {result.message}"[:200]
    return response
