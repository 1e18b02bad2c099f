"""SEMD-5: did the MIS consume a result? Its consumer group committed past the record's offset, and when.

Every poll reads the committed offsets of the watched groups (configured, or every group with commits on the
topic: a vendor need not tell us its group id) and marks each pending record below a group's committed offset
consumed, with the time it took since production. The resolution is the poll interval (fast while something is
pending, slow when nothing is). Each record consumed is journaled once, direction "consumed"."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from emulators.core.journal import Journal, Message
from emulators.fhsemd.kafka_link import KafkaLink
from emulators.fhsemd.store import Delivery, Store

log = logging.getLogger("medstand.fhsemd")
IDLE_EVERY = 8  # with nothing pending, poll on every 8th tick only (group discovery, cheap for the broker)


class Consumption:
    """Polls the groups' offsets and marks deliveries consumed; `groups` holds what the last poll saw."""

    def __init__(self, link: KafkaLink, store: Store, journal: Journal, watched: Sequence[str], name: str) -> None:
        self.link = link
        self.store = store
        self.journal = journal
        self.watched = tuple(watched)
        self.name = name
        self.groups: dict[str, dict[int, int]] = {}
        self.polled_at: float | None = None
        self._ticks = 0

    async def tick(self) -> None:
        self._ticks += 1
        if self.store.pending_count() == 0 and self._ticks % IDLE_EVERY:
            return
        await self.poll()

    async def poll(self) -> list[Delivery]:
        """One look at the committed offsets; returns the deliveries newly seen consumed."""
        if self.link.admin is None:
            return []
        self.groups = await asyncio.to_thread(self.link.committed, self.watched)
        self.polled_at = time.time()
        return self._mark(self.polled_at)

    def _mark(self, now: float) -> list[Delivery]:
        done: list[Delivery] = []
        partitions = {p for offsets in self.groups.values() for p in offsets}
        for partition in partitions:
            by_group = {g: offsets[partition] for g, offsets in self.groups.items() if partition in offsets}
            newly = self.store.consumed_up_to(self.link.topic, partition, by_group, now)
            for delivery in newly:
                self._journal(delivery)
            done.extend(newly)
        return done

    def _journal(self, delivery: Delivery) -> None:
        if not self.journal.enabled:
            return
        self.journal.record(
            emulator=self.name, direction="consumed", operation="semd.result.consumed",
            request=Message(self.journal.capture(b""), target=self.link.topic), response=None,
            latency_ms=delivery.consumed_after_ms,
            details={"groups": delivery.consumed_by, "consumed_after_ms": delivery.consumed_after_ms},
            attributes={"topic": delivery.topic, "partition": delivery.partition, "offset": delivery.offset,
                        "key": delivery.key, "message_id": delivery.message_id},
        )  # fmt: skip

    def view(self) -> dict[str, Any]:
        """The groups and their committed offsets as last seen (GET /__admin/fhsemd/groups)."""
        return {"topic": self.link.topic, "watched": list(self.watched) or "every group with commits on the topic",
                "groups": {g: {str(p): o for p, o in sorted(offsets.items())} for g, offsets in self.groups.items()},
                "pending": self.store.pending_count()}  # fmt: skip
