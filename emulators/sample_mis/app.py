"""The sample MIS's HTTP side: GET/POST /booking/book, POST /booking/cancel, and its start-up sequence."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import orjson

from emulators.core.asgi import answer, lifespan, read_body
from emulators.sample_mis.mis import OK, SampleMis


def booking_app(mis: SampleMis) -> Any:
    """A plain ASGI app: the three routes a MIS exposes to the gateway (contracts/fer/mis-booking.openapi.yaml)."""
    tasks: set[asyncio.Task[None]] = set()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, mis.close)
            return
        body = await read_body(receive)
        route = (scope["method"], scope["path"].rstrip("/"))
        if route == ("GET", "/booking/book"):
            await _answer(send, 200, {"status": "ready"})
            return
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            await _answer(send, 400, {"error": "body is not JSON"})
            return
        if route == ("POST", "/booking/book") and isinstance(request, dict):
            if mis.answer_delay_ms:
                await asyncio.sleep(mis.answer_delay_ms / 1000)
            answer = mis.book(request)
            await _answer(send, 200, answer, {"server-timing": f"app;dur={mis.process_ms[-1]:.3f}"})
            if answer["status"]["status_code"] == OK:
                _later(tasks, mis.after_booking(answer["book_ext_id"]))
        elif route == ("POST", "/booking/cancel") and isinstance(request, dict):
            answer = mis.cancel(request)
            await _answer(send, 200, answer)
            if answer["status"]["status_code"] == OK:
                _later(tasks, mis.after_cancel(answer["book_ext_id"]))
        else:
            await _answer(send, 404, {"error": f"no route {scope['method']} {scope['path']}"})

    return app


def _later(tasks: set[asyncio.Task[None]], work: Any) -> None:
    task = asyncio.get_running_loop().create_task(work)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _answer(send: Any, status: int, body: dict[str, Any], extra: dict[str, str] | None = None) -> None:
    await answer(send, status, orjson.dumps(body), headers=(extra or {}).items())


async def start(mis: SampleMis, today: dt.date | None = None) -> asyncio.Task[None]:
    """Log in, publish the showcase and the webhook; returns the task that keeps re-sending slots."""
    await mis.login()
    await mis.publish(today or dt.date.today())
    return asyncio.get_running_loop().create_task(mis.resend_slots())
