"""The Kafka side of ФХ СЭМД: one producer (acks=all, idempotent where the broker supports it, keyed by the
document) and one admin client for the consumer groups' committed offsets (SEMD-5). kafka-python runs its own
I/O thread; results come back to the event loop through futures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emulators.core.components import DOWN, OK, STOPPED, Component, Health

log = logging.getLogger("medstand.fhsemd")


@dataclass(frozen=True)
class Written:
    """Where the broker put one record, and how long the acknowledgement took."""

    partition: int
    offset: int
    latency_ms: float


class KafkaError(Exception):
    """The broker did not take a record (answered 503 by the admin API)."""


class KafkaLink(Component):
    """Connects after the broker is up; `produce` writes records, `committed` reads the groups' offsets."""

    name = "kafka"

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self.producer: Any = None
        self.admin: Any = None
        self.error = ""

    async def start(self) -> None:
        await asyncio.to_thread(self._connect)
        log.info("fhsemd: producing to %s on %s (idempotent: %s)", self.topic, self.bootstrap, self.idempotent)

    def _connect(self) -> None:
        from kafka import KafkaAdminClient, KafkaProducer

        deadline = time.monotonic() + 30
        while True:
            try:
                self.admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="medstand-fhsemd-admin")
                break
            except Exception as exc:  # a starting cluster refuses for a moment
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cannot reach Kafka at {self.bootstrap}: {exc}") from exc
                time.sleep(0.2)
        self._ensure_topic()
        # enable_idempotence is left at its default (on): kafka-python turns it off, with a warning, for a broker
        # older than 0.11 — "idempotent where supported". acks=-1 is acks=all.
        self.producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks=-1, linger_ms=1,
                                      client_id="medstand-fhsemd", max_block_ms=10_000)  # fmt: skip
        self.producer.partitions_for(self.topic)  # fetch metadata now, not on the first result

    def _ensure_topic(self) -> None:
        from kafka.admin import NewTopic
        from kafka.errors import TopicAlreadyExistsError

        if self.topic in set(self.admin.list_topics()):
            return
        with contextlib.suppress(TopicAlreadyExistsError):  # another medstand created it meanwhile
            self.admin.create_topics([NewTopic(self.topic, self.partitions, 1)])

    @property
    def idempotent(self) -> bool:
        return bool(self.producer is not None and self.producer.config.get("enable_idempotence"))

    async def produce(self, records: Sequence[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> list[Written]:
        """Write (key, value, headers) records in order; returns where each went. Raises KafkaError."""
        if self.producer is None:
            raise KafkaError("the Kafka producer is not connected")
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Written]] = []
        for key, value, headers in records:
            futures.append(self._send(loop, key, value, headers))
        try:
            return list(await asyncio.gather(*futures))
        except KafkaError as exc:
            self.error = str(exc)
            raise

    def _send(self, loop: asyncio.AbstractEventLoop, key: bytes, value: bytes,
              headers: list[tuple[str, bytes]]) -> asyncio.Future[Written]:  # fmt: skip
        done: asyncio.Future[Written] = loop.create_future()
        started = time.perf_counter()

        def ok(meta: Any) -> None:
            written = Written(meta.partition, meta.offset, round((time.perf_counter() - started) * 1000, 3))
            loop.call_soon_threadsafe(_settle, done, written, None)

        def failed(exc: BaseException) -> None:
            loop.call_soon_threadsafe(_settle, done, None, KafkaError(f"{type(exc).__name__}: {exc}"))

        try:
            sent = self.producer.send(self.topic, key=key, value=value, headers=headers or None)
        except Exception as exc:
            failed(exc)
            return done
        sent.add_callback(ok)
        sent.add_errback(failed)
        return done

    def committed(self, groups: Sequence[str]) -> dict[str, dict[int, int]]:
        """Committed offsets on our topic, per group (all groups that have any when `groups` is empty).

        Blocking: call it in a thread."""
        names = list(groups) or [g["group_id"] for g in self.admin.list_groups() if g.get("group_id")]
        if not names:
            return {}
        found: dict[str, dict[int, int]] = {}
        for group, offsets in self.admin.list_group_offsets({name: None for name in names}).items():
            mine = {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == self.topic}
            if any(offset >= 0 for offset in mine.values()):
                found[group] = mine
        return found

    def end_offsets(self) -> dict[int, int]:
        """The next offset of every partition of our topic (blocking: call it in a thread)."""
        from kafka import KafkaConsumer, TopicPartition

        reader = KafkaConsumer(bootstrap_servers=self.bootstrap, client_id="medstand-fhsemd-check")
        try:
            partitions = [TopicPartition(self.topic, p) for p in sorted(reader.partitions_for_topic(self.topic) or ())]
            return {tp.partition: int(offset) for tp, offset in reader.end_offsets(partitions).items()}
        finally:
            reader.close()

    async def stop(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        if self.producer is not None:
            try:
                self.producer.flush(5)
                self.producer.close(5)
            except Exception as exc:  # a dead broker: nothing more to flush
                log.warning("fhsemd: producer close: %s", exc)
            self.producer = None
        if self.admin is not None:
            try:
                self.admin.close()
            except Exception as exc:
                log.warning("fhsemd: admin close: %s", exc)
            self.admin = None

    def health(self) -> Health:
        if self.producer is None:
            return Health(STOPPED if not self.error else DOWN, self.error)
        extra = {"bootstrap": self.bootstrap, "topic": self.topic, "idempotent": self.idempotent}
        return Health(OK, extra=extra)


def _settle(done: asyncio.Future[Written], written: Written | None, error: Exception | None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        assert written is not None
        done.set_result(written)
