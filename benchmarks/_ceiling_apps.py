"""Two servers that do nothing but answer, to measure what this machine allows any Python HTTP server at all.

    python benchmarks/_ceiling_apps.py --kind raw|asgi --port 8124

`raw`: an asyncio Protocol on uvloop that frames requests by Content-Length and answers each one with a constant
(no HTTP parser, no routing, no JSON): the floor of any Python server's per-request cost here. `asgi`: a bare ASGI
app under uvicorn (httptools, uvloop, the gateway's settings) that reads the body and answers a constant: the floor
of any ASGI framework. Both answer every path, so `/__admin/health` is 200 for the benchmarks' start-up wait.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn
import uvloop

ANSWER = b'{"isSuccess":true,"statusCode":200}'
RAW_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(ANSWER),
    ANSWER,
)


class RawProtocol(asyncio.Protocol):
    """Split the stream into requests by the blank line and Content-Length; answer each with RAW_ANSWER."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(RAW_ANSWER)


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": ANSWER})


async def serve_raw(host: str, port: int) -> None:
    server = await asyncio.get_running_loop().create_server(RawProtocol, host, port)
    await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["raw", "asgi"], required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    if args.kind == "raw":
        uvloop.run(serve_raw(args.host, args.port))
        return
    uvicorn.run(
        asgi_app, host=args.host, port=args.port, http="httptools", loop="uvloop", log_level="warning",
        access_log=False, server_header=False, date_header=False, lifespan="off",
    )  # fmt: skip


if __name__ == "__main__":
    main()
