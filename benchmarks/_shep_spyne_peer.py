"""The peer of `shep_search.py`: a spyne 2.14 SyncChannel `SendMessage` that answers one fixed SendMessageResponse.

spyne cannot carry the seed's xsi:type-polymorphic `data` (measured: it rejects the type or keeps the first child
only), so this peer does no business work at all: it parses the envelope (spyne's Soap11, no validation), takes
`request` as AnyXml and returns, as `response`, the emulator's own answer to the same request, read once at start
(same size, certificates included), copied per call. Served by uvicorn (httptools) through its WSGI adapter, as
the emulator is served by uvicorn.

    python benchmarks/_shep_spyne_peer.py --port 2401 --answer answer.xml
"""

from __future__ import annotations

import argparse
import copy
import logging
from typing import Any

import uvicorn
from lxml import etree
from spyne import AnyXml, Application, ServiceBase, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication
from uvicorn.middleware.wsgi import WSGIMiddleware

TYPES = "http://bip.bee.kz/SyncChannel/v10/Types"


def application(fixed: Any) -> Any:
    class SyncChannel(ServiceBase):  # type: ignore[misc]
        @rpc(
            AnyXml,
            _returns=AnyXml,
            _in_message_name="SendMessage",
            _out_message_name="SendMessageResponse",
            _out_variable_name="response",
        )
        def SendMessage(ctx: Any, request: Any) -> Any:  # the SOAP operation's name
            return copy.deepcopy(fixed)  # spyne moves the element into its answer: a shared one crashes

    soap = Application([SyncChannel], tns=TYPES, in_protocol=Soap11(validator=None), out_protocol=Soap11())
    wsgi = WSGIMiddleware(WsgiApplication(soap), workers=4)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/__admin/health":  # for the benchmark's start-up wait
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        await wsgi(scope, receive, send)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answer", required=True, help="a SendMessageResponse envelope whose `response` is sent")
    args = parser.parse_args()
    logging.getLogger("spyne").setLevel(logging.ERROR)
    envelope = etree.parse(args.answer).getroot()
    fixed = envelope.find(f".//{{{TYPES}}}SendMessageResponse/response")
    uvicorn.run(
        application(fixed),
        host="127.0.0.1",
        port=args.port,
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
