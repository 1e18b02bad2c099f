"""ФХ СЭМД admin routes (contracts/fhsemd/admin.openapi.yaml): produce results, look one up (SEMD-5), the groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulators.core.http import Handler, HttpError, Request, Response, json_response
from emulators.fhsemd.kafka_link import KafkaError
from emulators.fhsemd.messages import SpecError

if TYPE_CHECKING:
    from emulators.fhsemd.emulator import FhSemd

MAX_ITEMS = 10_000


def admin_handlers(fh: FhSemd) -> dict[str, Handler]:
    async def send(request: Request) -> Response:
        body = request.json()
        specs = body if isinstance(body, list) else [body]
        if not specs or len(specs) > MAX_ITEMS:
            raise HttpError(400, f"send one result object or a list of 1 to {MAX_ITEMS}")
        try:
            deliveries = await fh.send(specs)
        except SpecError as exc:
            raise HttpError(400, str(exc)) from exc
        except KafkaError as exc:
            raise HttpError(503, f"the broker at {fh.bootstrap} did not take the results: {exc}") from exc
        return json_response({"results": [_written(d.as_dict()) for d in deliveries]}, 201)

    async def listing(request: Request) -> Response:
        raw = request.query.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_ITEMS:
            raise HttpError(400, f"limit must be a whole number from 1 to {MAX_ITEMS}")
        shown = [d.as_dict() for d in fh.store.recent(int(raw))]
        return json_response({"results": shown, "count": len(shown), "pending_consumption": fh.store.pending_count()})

    async def one(request: Request) -> Response:
        message_id = request.path_params["messageId"]
        if request.query.get("refresh") in {"1", "true"}:
            await fh.consumption.poll()
        shown = fh.view(message_id)
        if shown is None:
            raise HttpError(404, f"no result with messageId {message_id!r} was sent")
        return json_response(shown)

    async def groups(request: Request) -> Response:
        await fh.consumption.poll()
        return json_response(fh.consumption.view())

    return {
        "admin.fhsemd.results.send": send,
        "admin.fhsemd.results.list": listing,
        "admin.fhsemd.results.get": one,
        "admin.fhsemd.groups": groups,
    }


def _written(shown: dict[str, object]) -> dict[str, object]:
    keep = ("messageId", "relatesToMessage", "key", "transport", "topic", "partition", "offset", "fault")
    written = {k: shown[k] for k in keep if k in shown}
    if shown.get("transport") == "rest":
        written["delivery_id"] = shown.get("delivery_id")
    return written
