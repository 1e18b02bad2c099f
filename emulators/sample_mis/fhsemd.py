"""The reference MIS's ФХ СЭМД side: a Kafka consumer of `semd-registration-results` and the REST endpoint.

Read it as the example of seed 5.2 from the MIS side («Логика работы обработчика»):
1. find the original request by `relatesToMessage` (the messageId of the MIS's own registration request);
2. update the document's status in the MIS's database (registered with its emdrId and version, or rejected);
3. answer (REST: `{status, errors}`; Kafka: commit the offset, so ФХ СЭМД sees the result consumed).
It tolerates what a real stream brings: a duplicate messageId is applied once, a result for a request it never
sent and a poison (non-JSON) record are skipped with a log line, an older documentVersion arriving after a newer
one does not overwrite it. Framing: Kafka headers + JSON body, or one JSON `{header, body}` — both understood.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulators.core.asgi import answer, lifespan, read_body

log = logging.getLogger("medstand.sample_mis.fhsemd")
TOPIC = "semd-registration-results"
REST_PATH = "/api/v1/internal/semd/registration-result"
DOCUMENTS_PATH = "/api/v1/internal/semd/documents"
UNKNOWN = {"code": "UNKNOWN_MESSAGE", "message": "Исходный запрос не найден"}
NOT_JSON = {"code": "INVALID_MESSAGE", "message": "Сообщение не является корректным JSON"}


@dataclass
class Document:
    """One СЭМД the MIS sent for registration; `message_id` is its request's id (what results relate to)."""

    message_id: str
    title: str
    status: str = "sent"  # sent | registered | rejected
    emdr_id: str | None = None
    version: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    updated_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"messageId": self.message_id, "title": self.title, "status": self.status, "emdrId": self.emdr_id,
                "documentVersion": self.version, "errors": self.errors, "warnings": self.warnings}  # fmt: skip


@dataclass
class SemdMis:
    """The MIS's registration state and the one handler both transports use."""

    documents: dict[str, Document] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (outcome, messageId or position) for tests
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, title: str = "СЭМД") -> Document:
        document = Document(str(uuid.uuid4()), title)
        with self.lock:
            self.documents[document.message_id] = document
        return document

    def handle(self, header: dict[str, Any] | None, raw: bytes, where: str = "") -> tuple[str, list[dict[str, str]]]:
        """Apply one result; returns (outcome, errors): applied | duplicate | stale | unknown | poison."""
        try:
            value = orjson.loads(raw)
            if header is None:  # envelope framing
                header, value = value["header"], value["body"]
            if not isinstance(value, dict):
                raise TypeError("the body is not a JSON object")
            relates_to, status = value["relatesToMessage"], value["status"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            log.warning("skipping a poison message %s: %s", where, exc)
            return self._done("poison", where, [NOT_JSON])
        message_id = str((header or {}).get("messageId") or "")
        with self.lock:
            if message_id and message_id in self.seen:
                log.info("duplicate messageId %s %s: already applied", message_id, where)
                return self._done("duplicate", message_id, [])
            document = self.documents.get(relates_to)
            if document is None:
                log.warning("result %s relates to %s, which this MIS never sent: skipped", message_id, relates_to)
                return self._done("unknown", message_id, [UNKNOWN])
            self.seen.add(message_id)
            return self._done(self._apply(document, status, value), message_id, [])

    def _apply(self, document: Document, status: str, body: dict[str, Any]) -> str:
        item = body.get("registryItem") or {}
        version = int(item.get("documentVersion") or 0)
        if status == "success" and version < document.version:
            log.info("version %s of %s arrived after version %s: kept the newer", version, document.message_id,
                     document.version)  # fmt: skip
            return "stale"
        if status == "success":
            document.status, document.emdr_id, document.version = "registered", item.get("emdrId"), version
            document.warnings, document.errors = list(item.get("registrationWarnings") or []), []
        else:
            document.status, document.errors = "rejected", list(body.get("errors") or [])
        document.updated_at = time.time()
        return "applied"

    def _done(self, outcome: str, what: str, errors: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
        self.outcomes.append((outcome, what))
        return outcome, errors


def split_headers(headers: Any) -> dict[str, Any] | None:
    """The seed's header from Kafka record headers (None when the record carries none: envelope framing)."""
    found = {name: (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw) for name, raw in headers or ()}
    return found if "messageId" in found else None


class Consumer:
    """The MIS's consumer group on the topic, with kafka-python or confluent-kafka; commits after each poll."""

    def __init__(self, mis: SemdMis, bootstrap: str, group: str, client: str = "kafka-python") -> None:
        self.mis, self.bootstrap, self.group, self.client = mis, bootstrap, group, client
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"semd-consumer-{group}", daemon=True)

    def start(self) -> Consumer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=15)

    def run(self) -> None:
        if self.client == "confluent":
            self._run_confluent()
        else:
            self._run_kafka_python()

    def _run_kafka_python(self) -> None:
        from kafka import KafkaConsumer

        consumer = KafkaConsumer(TOPIC, bootstrap_servers=self.bootstrap, group_id=self.group,
                                 auto_offset_reset="earliest", enable_auto_commit=False)  # fmt: skip
        try:
            while not self.stopping.is_set():
                batches = consumer.poll(timeout_ms=100)
                for records in batches.values():
                    for record in records:
                        where = f"at partition {record.partition} offset {record.offset}"
                        self.mis.handle(split_headers(record.headers), record.value or b"", where)
                if batches:
                    consumer.commit()
        finally:
            consumer.close()

    def _run_confluent(self) -> None:
        from confluent_kafka import Consumer as ConfluentConsumer

        consumer = ConfluentConsumer({"bootstrap.servers": self.bootstrap, "group.id": self.group,
                                      "auto.offset.reset": "earliest", "enable.auto.commit": False})  # fmt: skip
        consumer.subscribe([TOPIC])
        try:
            while not self.stopping.is_set():
                records = [r for r in consumer.consume(num_messages=500, timeout=0.1) if r.error() is None]
                for record in records:
                    where = f"at partition {record.partition()} offset {record.offset()}"
                    self.mis.handle(split_headers(record.headers()), record.value() or b"", where)
                if records:
                    consumer.commit(asynchronous=False)
        finally:
            consumer.close()


def rest_app(mis: SemdMis) -> Any:
    """The MIS's HTTP side: the seed's REST endpoint (SEMD-4) and its documents (to submit and to look at)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        route = (scope["method"], scope["path"].rstrip("/"))
        if route == ("POST", REST_PATH):
            # the REST body is the message body; its messageId is not sent, so duplicates are applied again
            outcome, errors = mis.handle({}, body, "(REST)")
            status = {"poison": 400, "unknown": 404}.get(outcome, 200)
            await _answer(send, status, {"status": "error" if errors else "success", "errors": errors})
        elif route == ("GET", DOCUMENTS_PATH):
            await _answer(send, 200, {"documents": [d.as_dict() for d in mis.documents.values()]})
        elif route == ("POST", DOCUMENTS_PATH):
            title = (orjson.loads(body) if _is_json(body) else {}).get("title") or "СЭМД"
            await _answer(send, 201, mis.submit(str(title)).as_dict())
        else:
            await _answer(send, 404, {"status": "error", "errors": [{"code": "NOT_FOUND", "message": scope["path"]}]})

    return app


def _is_json(body: bytes) -> bool:
    try:
        return isinstance(orjson.loads(body), dict)
    except orjson.JSONDecodeError:
        return False


async def _answer(send: Any, status: int, body: Any) -> None:
    await answer(send, status, orjson.dumps(body))


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    part = subparsers.add_parser("fhsemd-consumer", help="the MIS's side of ФХ СЭМД: Kafka consumer + REST endpoint",
                                 description=__doc__)  # fmt: skip
    part.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap (default %(default)s)")
    part.add_argument("--group", default="mis-polyclinic", help="consumer group id (default %(default)s)")
    part.add_argument("--client", choices=("kafka-python", "confluent"), default="kafka-python")
    part.add_argument("--host", default="127.0.0.1")
    part.add_argument("--port", type=int, default=3002, help="REST endpoint port (default %(default)s)")
    part.add_argument("--documents", type=int, default=3, help="documents submitted at start (their ids printed)")
    part.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from emulators.core.runner import bind_socket, make_server

    mis = SemdMis()
    for number in range(args.documents):
        document = mis.submit(f"СЭМД №{number + 1}")
        print(f"submitted {document.title}: relatesToMessage {document.message_id}", flush=True)
    consumer = Consumer(mis, args.bootstrap, args.group, args.client).start()
    server = make_server(rest_app(mis))
    log.info("consuming %s from %s as group %s; REST on http://%s:%s%s", TOPIC, args.bootstrap, args.group,
             args.host, args.port, REST_PATH)  # fmt: skip
    try:
        asyncio.run(server.serve(sockets=[bind_socket(args.host, args.port)]))
    finally:
        consumer.stop()
    return 0
