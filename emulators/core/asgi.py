"""The three pieces every small hand-written ASGI app needs (reference MIS sides, test receivers, benchmarks)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any


async def lifespan(receive: Any, send: Any, on_shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
    """Answer the lifespan protocol: start-up at once, then `on_shutdown` before shutdown completes."""
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    if on_shutdown is not None:
        await on_shutdown()
    await send({"type": "lifespan.shutdown.complete"})


async def read_body(receive: Any) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def answer(
    send: Any, status: int, body: bytes, content_type: str = "application/json",
    headers: Iterable[tuple[str, str]] = (),
) -> None:  # fmt: skip
    """One complete response."""
    raw = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
