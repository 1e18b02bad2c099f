"""The reference MIS's callback service for Netrika (Сервис обратного вызова площадки МИС-МО).

What a vendor's MIS must do, in one page: take `POST [base]/[MessageType]` for the six message types of
contracts/netrika/mis-callback.openapi.yaml, store the message, and answer the acknowledgement of section 6
with the same MessageId. It is idempotent on MessageId: the module re-sends a message it thinks was not
delivered, so a message seen before is acknowledged again and not stored twice. It reads the seed's two
spellings of VimisResult (IdSource/IdSourse, StatusCode/StatusСode). A message that breaks the contract is
acknowledged with Status Failed (received, not processed: re-sending it would not help); a body that is not
JSON or has no MessageId cannot be acknowledged at all and gets 400.

    medstand sample-mis netrika-callbacks --port 3200 [--base-path /back] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import time
from pathlib import Path
from typing import Any

import orjson

from emulators.core.config import JournalSettings
from emulators.core.faults import FaultPlan
from emulators.core.http import HttpApp, HttpError, Request, Response, json_response
from emulators.core.journal import Journal
from emulators.core.storage import Database
from emulators.netrika import catalogue as texts
from emulators.netrika.callbacks import Callbacks
from emulators.netrika.messages import EXAMPLE_SPELLING, MESSAGE_TYPES

log = logging.getLogger("medstand.sample_mis.netrika")
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS sample_netrika_message (message_id TEXT PRIMARY KEY, message_type TEXT NOT NULL,"
    " body TEXT NOT NULL, first_at REAL NOT NULL, times_received INTEGER NOT NULL DEFAULT 1)"
]


class CallbackService:
    """The MIS side: an ASGI `app` and the messages it has stored."""

    def __init__(self, database_url: str, base_path: str = "") -> None:
        self.db = Database(database_url)
        self.db.ensure_schema(SCHEMA)
        self.callbacks = Callbacks()
        self.journal = Journal(JournalSettings(max_events=1000))
        self.app = HttpApp("sample-mis-netrika", self.journal, FaultPlan(()), _error, _error, 32 * 1024 * 1024)
        prefix = "/" + base_path.strip("/") if base_path.strip("/") else ""
        for message_type in MESSAGE_TYPES:
            self.app.route("POST", f"{prefix}/{message_type}", f"mis.{message_type}", self._receiver(message_type))
        self.app.route("GET", "/__sample/messages", "sample.messages", self.list_messages)

    def _receiver(self, message_type: str) -> Any:
        async def receive(request: Request) -> Response:
            return self.receive(message_type, request.body)

        return receive

    def receive(self, message_type: str, raw: bytes) -> Response:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise HttpError(400, "the message is not JSON") from exc
        message_id = message.get("MessageId") if isinstance(message, dict) else None
        if not isinstance(message_id, str) or not message_id:
            raise HttpError(400, "the message has no MessageId: there is nothing to acknowledge")
        if message_type == "VimisResult":  # the seed's table spelling, read as the example's
            message = {EXAMPLE_SPELLING.get(k, k): v for k, v in message.items()}
        problems = self.callbacks.errors(message_type, message)
        if problems:
            log.warning("%s %s breaks the contract: %s", message_type, message_id, "; ".join(problems))
            return _ack(message_id, "Failed", f"{texts.ACK_FAILED_RECONSTRUCTED}: {'; '.join(problems)}")
        self.store(message_type, message_id, message)
        return _ack(message_id, "Success", texts.ACK_SEED)

    def store(self, message_type: str, message_id: str, message: dict[str, Any]) -> None:
        """Keep the first copy; count the re-sends."""
        self.db.execute(
            "INSERT INTO sample_netrika_message (message_id, message_type, body, first_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(message_id) DO UPDATE SET times_received = sample_netrika_message.times_received + 1",
            (message_id.lower(), message_type, orjson.dumps(message).decode(), time.time()),
        )

    def messages(self) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT message_id, message_type, body, times_received FROM sample_netrika_message"
                             " ORDER BY first_at")  # fmt: skip
        return [{"message_id": i, "message_type": t, "message": orjson.loads(b), "times_received": n}
                for i, t, b, n in rows]  # fmt: skip

    async def list_messages(self, request: Request) -> Response:
        return json_response({"messages": self.messages()})

    def close(self) -> None:
        self.db.close()


def _ack(message_id: str, status: str, message: str) -> Response:
    """Section 6: {MessageId, Message, Status}, the MessageId as received."""
    return json_response({"MessageId": message_id, "Message": message, "Status": status},
                         outcome="ok" if status == "Success" else "rejected")  # fmt: skip


def _error(request: Request, status: int, message: str, code: str | None) -> Response:
    return json_response({"error": message}, status, outcome="rejected")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "netrika-callbacks",
        help="the MIS callback service for Netrika's delivery module (stores, acknowledges, idempotent)",
        description="Serve POST [base]/[MessageType] for the six Netrika message types; acknowledge each with "
        "its MessageId (section 6); store each message once however often it is re-sent.",
    )
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=3200, help="default %(default)s")
    command.add_argument("--base-path", default="", help="path of [base], e.g. /back (default: the root)")
    command.add_argument("--data-dir", default=".medstand-sample-mis", help="where received messages are kept")
    command.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from emulators.core.runner import bind_socket, make_server

    service = CallbackService(f"sqlite:///{Path(args.data_dir) / 'netrika-callbacks.sqlite3'}", args.base_path)

    async def main() -> None:
        server = make_server(service.app)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        log.info("sample MIS callback service on http://%s:%s%s", args.host, args.port, args.base_path)
        await server.serve(sockets=[bind_socket(args.host, args.port)])

    try:
        asyncio.run(main())
    finally:
        service.close()
    return 0
