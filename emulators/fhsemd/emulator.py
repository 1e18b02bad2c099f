"""The ФХ СЭМД emulator: results produced to Kafka on demand (or POSTed, SEMD-4), and whether the MIS consumed them.

Components, in start order: the embedded broker (unless `kafka_bootstrap` names a cluster), the Kafka link
(producer + admin client), the consumption check (SEMD-5), the REST delivery worker, the control API on 2300.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import orjson

from emulators import __version__
from emulators.core.admin import AdminBinding, mount_admin, render_admin_error
from emulators.core.components import OK, Component, Health, Periodic
from emulators.core.config import Settings
from emulators.core.contract import Contract, contracts_dir
from emulators.core.emulator import Emulator
from emulators.core.errors import ConfigError
from emulators.core.http import HttpApp, bind_contract
from emulators.core.journal import Message
from emulators.core.outbound import Outbound
from emulators.core.storage import Database
from emulators.fhsemd import rest, schemas
from emulators.fhsemd.broker import EmbeddedBroker
from emulators.fhsemd.consumption import Consumption
from emulators.fhsemd.faults import apply_fault
from emulators.fhsemd.kafka_link import KafkaLink, Written
from emulators.fhsemd.messages import Generator, Result, SpecError, poisoned
from emulators.fhsemd.settings import FRAMINGS, FhsemdSettings
from emulators.fhsemd.store import Delivery, Store

log = logging.getLogger("medstand.fhsemd")
NAME = "fhsemd"
ADMIN_CONTRACT = "fhsemd/admin.openapi.yaml"
MIS_CONTRACT = "fhsemd/mis-rest.openapi.yaml"
DOCUMENTS = {"fhsemd-admin": ADMIN_CONTRACT, "mis-rest": MIS_CONTRACT, "asyncapi": "fhsemd/asyncapi.yaml"}
FAULT_KINDS = ("duplicate", "poison")  # armed through /__admin/faults for operation semd.result
PRODUCE_OPERATION = "semd.result"


class FhSemd(Emulator):
    """State and behaviour of one ФХ СЭМД; `app` is its control API."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        super().__init__(NAME, settings, FAULT_KINDS)
        self.fh: FhsemdSettings = settings.section(NAME)
        _check(self.fh)
        self.db = db or Database(settings.resolved_database_url)
        self.store = Store(self.db)
        self.generator = Generator(self.fh.seed, self.fh.region, self.fh.store_years, self.fh.framing)
        self.generator.emdr_ids, self.generator.versions = self.store.document_state()
        self.generator.resume(len(self.store.by_id))
        self.broker: EmbeddedBroker | None = None
        if not self.fh.kafka_bootstrap:
            self.broker = EmbeddedBroker.plan(settings.host, self.fh.kafka_port, Path(settings.data_dir) / "kafka")
            self.add(self.broker.component())
        bootstrap = self.fh.kafka_bootstrap or (self.broker.bootstrap if self.broker else "")
        self.kafka = self.add(KafkaLink(bootstrap, self.fh.topic, self.fh.partitions))
        self.add(Recovery(self))
        self.consumption = Consumption(self.kafka, self.store, self.journal, self.fh.watched_groups, NAME)
        self.add(Periodic("consumption-check", self.fh.consumption_poll_seconds, self.consumption.tick))
        self.outbound = Outbound(self.journal, NAME)
        self.rest = rest.rest_engine(self.db, self.outbound, self.fh, Contract(contracts_dir() / MIS_CONTRACT))
        self.add(self.rest.component())
        self.health_checks["storage"] = self.db.health
        self.app = HttpApp(NAME, self.journal, self.faults, render_admin_error, render_admin_error,
                           self.fh.max_body_bytes)  # fmt: skip
        self.app.on_shutdown.append(self.outbound.close)
        from emulators.fhsemd.admin import admin_handlers

        bind_contract(self.app, Contract(contracts_dir() / ADMIN_CONTRACT), admin_handlers(self), admin=True)
        mount_admin(self.app, AdminBinding(NAME, __version__, "ФХ СЭМД (результаты регистрации СЭМД, Kafka)",
                                           self.state, self.reset, DOCUMENTS, self.health))  # fmt: skip
        self.listen(self.app, self.fh.port)

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    # -- producing ---------------------------------------------------------------------------------

    def build(self, specs: list[Any]) -> list[tuple[Result, dict[str, Any]]]:
        """Every record to send for `specs`, in order, with its item (raises SpecError for a refused item)."""
        planned: list[tuple[Result, dict[str, Any]]] = []
        for number, spec in enumerate(specs):
            if not isinstance(spec, dict):
                raise SpecError(f"item {number}: each result is a JSON object")
            try:
                result = self.generator.build(spec)
                kind = spec.get("fault") or self._armed_fault()
                for record in apply_fault(result, kind, self.generator):
                    self._validate(record)
                    planned.append((record, spec))
            except SpecError as exc:
                raise SpecError(f"item {number}: {exc}") from exc
        return planned

    def _armed_fault(self) -> str | None:
        taken = self.faults.take(PRODUCE_OPERATION)
        return taken[0].kind if taken else None

    def _validate(self, result: Result) -> None:
        found = schemas.problems("header", result.header) + schemas.problems("body", result.body)
        if found:
            raise SpecError("the result would break the contract: " + "; ".join(found[:5]))

    async def send(self, specs: list[Any]) -> list[Delivery]:
        """Build, write (Kafka and/or REST) and store the results; raises SpecError or KafkaError."""
        planned = self.build(specs)
        kafka = [(r, s) for r, s in planned if s.get("transport", "kafka") == "kafka"]
        others = [(r, s) for r, s in planned if s.get("transport", "kafka") != "kafka"]
        for _, spec in others:
            if spec.get("transport") != "rest":
                raise SpecError('transport must be "kafka" or "rest"')
        produced = iter(await self._produce(kafka))
        return [next(produced) if s.get("transport", "kafka") == "kafka" else self._post(r, s) for r, s in planned]

    async def _produce(self, planned: list[tuple[Result, dict[str, Any]]]) -> list[Delivery]:
        if not planned:
            return []
        records = [(r.key.encode(), *r.record()) for r, _ in planned]
        produced_at = time.time()
        written = await self.kafka.produce(records)
        deliveries = []
        seq: dict[str, int] = {}
        for (result, _), record, where in zip(planned, records, written):
            number = seq[result.message_id] = seq.get(result.message_id, self.store.next_seq(result.message_id) - 1) + 1
            delivery = Delivery(result.message_id, number, result.relates_to, result.key, result.body["status"],
                                "kafka", result.fault, self.kafka.topic, where.partition, where.offset, produced_at,
                                header=result.header, body=result.body, framing=result.framing)  # fmt: skip
            deliveries.append(delivery)
            self._journal_produced(delivery, record, where)
        self.store.add(deliveries)
        return deliveries

    def _journal_produced(self, delivery: Delivery, record: tuple[bytes, bytes, list[tuple[str, bytes]]],
                          where: Written, notes: tuple[str, ...] = ()) -> None:  # fmt: skip
        if not self.journal.enabled:
            return
        key, value, headers = record
        shown = tuple((name, raw.decode()) for name, raw in headers)
        fault = {"id": None, "kind": delivery.fault} if delivery.fault else None
        self.journal.record(
            emulator=NAME, direction="produced", operation=PRODUCE_OPERATION,
            request=Message(self.journal.capture(value), target=self.kafka.topic, headers=shown), response=None,
            latency_ms=where.latency_ms, outcome=f"fault:{delivery.fault}" if delivery.fault else "ok", notes=notes,
            attributes={"topic": self.kafka.topic, "partition": where.partition, "offset": where.offset,
                        "key": key.decode(), "message_id": delivery.message_id}, fault=fault,
        )  # fmt: skip

    async def rewrite_lost(self) -> int:
        """Write again every stored record the broker no longer has (its offset is at or past the partition's end):
        the embedded broker saves about once a second, so a SIGKILL can take its last acknowledged records, which
        medstand had already recorded. Returns how many were written again (each journaled with a note)."""
        ends = await asyncio.to_thread(self.kafka.end_offsets)
        kept = [d for items in self.store.by_id.values() for d in items
                if d.transport == "kafka" and d.topic == self.kafka.topic and d.partition is not None]  # fmt: skip
        lost = sorted((d for d in kept if (d.offset or 0) >= ends.get(int(d.partition or 0), 0)),
                      key=lambda d: (d.partition, d.offset))  # fmt: skip
        if not lost:
            return 0
        results = [Result(d.header, d.body, d.key, d.framing, d.fault, d.fault == "poison") for d in lost]
        records = [(r.key.encode(), *r.record()) for r in results]
        note = "written again at start: the broker had lost it (it was stopped without saving)"
        for delivery, record, where in zip(lost, records, await self.kafka.produce(records)):
            was = f"was partition {delivery.partition} offset {delivery.offset}"
            self.store.moved(delivery, where.partition, where.offset)
            self._journal_produced(delivery, record, where, (note, was))
        log.warning("fhsemd: the broker had lost %d acknowledged record(s); written again", len(lost))
        return len(lost)

    def _post(self, result: Result, spec: dict[str, Any]) -> Delivery:
        base = spec.get("url") or self.fh.mis_url
        if not isinstance(base, str) or not base.startswith(("http://", "https://")):
            raise SpecError("transport rest needs the MIS's base URL: fhsemd.mis_url or the item's url")
        body = orjson.dumps(result.body)  # SEMD-4: the request body is the message body, whatever the framing
        body = poisoned(body) if result.poison else body
        url = rest.delivery_url(base)
        delivery_id = self.rest.enqueue(base, rest.OPERATION, url, body, {"Content-Type": "application/json"},
                                        result.message_id)  # fmt: skip
        delivery = Delivery(result.message_id, self.store.next_seq(result.message_id), result.relates_to, result.key,
                            result.body["status"], "rest", result.fault, None, None, delivery_id, time.time(),
                            outcome="pending", header=result.header, body=result.body)  # fmt: skip
        self.store.add([delivery])
        return delivery

    # -- admin -------------------------------------------------------------------------------------

    def view(self, message_id: str) -> dict[str, Any] | None:
        deliveries = self.store.by_id.get(message_id)
        if not deliveries:
            return None
        first = deliveries[0]
        shown_all = []
        for delivery in deliveries:
            shown = delivery.as_dict()
            if delivery.transport == "rest" and delivery.offset is not None:
                shown["rest"] = self.rest.message(delivery.offset)
            shown_all.append(shown)
        kafka = [d for d in deliveries if d.transport == "kafka"]
        consumed = bool(kafka) and all(d.consumed for d in kafka)
        after = max((d.consumed_after_ms or 0.0) for d in kafka) if consumed else None
        return {"messageId": message_id, "relatesToMessage": first.relates_to, "consumed": consumed,
                "consumed_after_ms": after, "header": first.header, "body": first.body,
                "deliveries": shown_all}  # fmt: skip

    def state(self) -> dict[str, Any]:
        kafka = [d for items in self.store.by_id.values() for d in items if d.transport == "kafka"]
        return {"bootstrap": self.bootstrap, "topic": self.fh.topic, "framing": self.fh.framing,
                "embedded_broker": self.broker is not None, "idempotent": self.kafka.idempotent,
                "produced": len(kafka), "consumed": sum(1 for d in kafka if d.consumed),
                "pending_consumption": self.store.pending_count(), "rest": self.rest.counts(),
                "groups": self.consumption.view()["groups"]}  # fmt: skip

    def reset(self) -> None:
        """Forget the results sent (the records stay on the topic; a MIS may still read them)."""
        self.store.clear()
        self.rest.clear()
        self.generator.emdr_ids.clear()
        self.generator.versions.clear()

    def close(self) -> None:
        self.db.flush()


class Recovery(Component):
    """At start, after the Kafka link: records the broker lost are written again (see FhSemd.rewrite_lost)."""

    name = "kafka-recovery"

    def __init__(self, fh: FhSemd) -> None:
        self.fh = fh
        self.rewritten = 0

    async def start(self) -> None:
        self.rewritten = await self.fh.rewrite_lost()

    def health(self) -> Health:
        return Health(OK, extra={"rewritten_at_start": self.rewritten})


def _check(fh: FhsemdSettings) -> None:
    if fh.framing not in FRAMINGS:
        raise ConfigError(f"fhsemd.framing must be one of {', '.join(FRAMINGS)}, got {fh.framing!r}")
    if fh.partitions < 1:
        raise ConfigError("fhsemd.partitions must be at least 1")
    if fh.consumption_poll_seconds <= 0:
        raise ConfigError("fhsemd.consumption_poll_seconds must be more than 0")
