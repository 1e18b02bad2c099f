"""Every result sent, durable in SQLite: where it went (topic/partition/offset or REST), when, and when the MIS
consumed it (SEMD-5). Kept in memory too, for the admin API and the consumption check."""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulators.core.storage import Database

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fhsemd_delivery (message_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " relates_to TEXT NOT NULL, doc_key TEXT NOT NULL, status TEXT NOT NULL, transport TEXT NOT NULL,"
    " fault TEXT, topic TEXT, partition_no INTEGER, offset_no INTEGER, produced_at REAL NOT NULL,"
    " consumed_at REAL, consumed_by TEXT, outcome TEXT NOT NULL, header TEXT NOT NULL, body TEXT NOT NULL,"
    " framing TEXT NOT NULL DEFAULT 'headers', PRIMARY KEY (message_id, seq))",
    "CREATE INDEX IF NOT EXISTS fhsemd_delivery_key ON fhsemd_delivery (doc_key)",
]
COLUMNS = ("message_id, seq, relates_to, doc_key, status, transport, fault, topic, partition_no, offset_no,"
           " produced_at, consumed_at, consumed_by, outcome, header, body, framing")  # fmt: skip


@dataclass
class Delivery:
    """One record written (a duplicate is two deliveries of one messageId) or one REST delivery."""

    message_id: str
    seq: int
    relates_to: str
    key: str
    status: str
    transport: str  # kafka | rest
    fault: str | None
    topic: str | None
    partition: int | None
    offset: int | None
    produced_at: float
    consumed_at: float | None = None
    consumed_by: list[str] = field(default_factory=list)
    outcome: str = "ok"  # kafka: ok; rest: ok | pending | failed | rejected
    header: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    framing: str = "headers"

    def row(self) -> tuple[Any, ...]:
        return (self.message_id, self.seq, self.relates_to, self.key, self.status, self.transport, self.fault,
                self.topic, self.partition, self.offset, self.produced_at, self.consumed_at,
                ",".join(self.consumed_by) or None, self.outcome, orjson.dumps(self.header).decode(),
                orjson.dumps(self.body).decode(), self.framing)  # fmt: skip

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Delivery:
        fields = list(row)
        fields[12] = fields[12].split(",") if fields[12] else []
        fields[14], fields[15] = orjson.loads(fields[14]), orjson.loads(fields[15])
        return cls(*fields)

    def as_dict(self) -> dict[str, Any]:
        """The admin API's view (GET /__admin/fhsemd/results/{messageId})."""
        shown: dict[str, Any] = {"messageId": self.message_id, "relatesToMessage": self.relates_to,
                                 "status": self.status, "transport": self.transport, "key": self.key,
                                 "fault": self.fault, "produced_at": _iso(self.produced_at),
                                 "outcome": self.outcome}  # fmt: skip
        if self.transport == "rest":
            shown["delivery_id"] = self.offset  # rest: the delivery engine's id is kept in the offset column
        if self.transport == "kafka":
            shown.update(topic=self.topic, partition=self.partition, offset=self.offset, consumed=self.consumed,
                         consumed_at=_iso(self.consumed_at) if self.consumed_at else None,
                         consumed_after_ms=self.consumed_after_ms, consumed_by=self.consumed_by)  # fmt: skip
        return shown

    @property
    def consumed(self) -> bool:
        return self.consumed_at is not None

    @property
    def consumed_after_ms(self) -> float | None:
        return None if self.consumed_at is None else round((self.consumed_at - self.produced_at) * 1000, 1)


def _iso(moment: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    """Deliveries by messageId, and the Kafka ones not yet consumed, per partition in offset order."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema(SCHEMA)
        self.by_id: dict[str, list[Delivery]] = {}
        self.pending: dict[tuple[str, int], list[tuple[int, Delivery]]] = {}
        for row in db.query(f"SELECT {COLUMNS} FROM fhsemd_delivery ORDER BY produced_at, seq"):
            self._remember(Delivery.from_row(row))

    def _remember(self, delivery: Delivery) -> None:
        self.by_id.setdefault(delivery.message_id, []).append(delivery)
        if delivery.transport == "kafka" and not delivery.consumed and delivery.partition is not None:
            queue = self.pending.setdefault((str(delivery.topic), delivery.partition), [])
            bisect.insort(queue, (int(delivery.offset or 0), delivery), key=lambda item: item[0])

    def next_seq(self, message_id: str) -> int:
        return len(self.by_id.get(message_id, ())) + 1

    def add(self, deliveries: Iterable[Delivery]) -> None:
        """Store written deliveries in one transaction (durable before the admin API answers)."""
        batch = list(deliveries)
        with self.db.transaction() as conn:
            conn.executemany(f"INSERT INTO fhsemd_delivery ({COLUMNS}) VALUES ({','.join('?' * 17)})"
                             " ON CONFLICT (message_id, seq) DO NOTHING", [d.row() for d in batch])  # fmt: skip
        for delivery in batch:
            self._remember(delivery)

    def update_outcome(self, delivery: Delivery, outcome: str) -> None:
        delivery.outcome = outcome
        self.db.execute("UPDATE fhsemd_delivery SET outcome = ? WHERE message_id = ? AND seq = ?",
                        (outcome, delivery.message_id, delivery.seq))  # fmt: skip

    def consumed_up_to(self, topic: str, partition: int, by_group: dict[str, int], at: float | None = None
                       ) -> list[Delivery]:  # fmt: skip
        """Mark every pending delivery below the highest committed offset consumed (and by which groups)."""
        queue = self.pending.get((topic, partition))
        committed = max(by_group.values(), default=-1)
        if not queue or queue[0][0] >= committed:
            return []
        cut = bisect.bisect_left(queue, committed, key=lambda item: item[0])
        done = [delivery for _, delivery in queue[:cut]]
        del queue[:cut]
        moment = at or time.time()
        for delivery in done:
            delivery.consumed_at = moment
            delivery.consumed_by = sorted(g for g, offset in by_group.items() if offset > (delivery.offset or 0))
        with self.db.transaction() as conn:
            rows = [(moment, ",".join(d.consumed_by), d.message_id, d.seq) for d in done]
            conn.executemany("UPDATE fhsemd_delivery SET consumed_at = ?, consumed_by = ? WHERE message_id = ?"
                             " AND seq = ?", rows)  # fmt: skip
        return done

    def moved(self, delivery: Delivery, partition: int, offset: int) -> None:
        """A record written again (the broker lost it): its new place; it is pending consumption again."""
        old = self.pending.get((str(delivery.topic), int(delivery.partition or 0)), [])
        old[:] = [item for item in old if item[1] is not delivery]
        delivery.partition, delivery.offset, delivery.consumed_at, delivery.consumed_by = partition, offset, None, []
        self.db.execute("UPDATE fhsemd_delivery SET partition_no = ?, offset_no = ?, consumed_at = NULL,"
                        " consumed_by = NULL WHERE message_id = ? AND seq = ?",
                        (partition, offset, delivery.message_id, delivery.seq))  # fmt: skip
        queue = self.pending.setdefault((str(delivery.topic), partition), [])
        bisect.insort(queue, (offset, delivery), key=lambda item: item[0])

    def pending_count(self) -> int:
        return sum(len(queue) for queue in self.pending.values())

    def recent(self, limit: int) -> list[Delivery]:
        everything = [d for items in self.by_id.values() for d in items]
        return sorted(everything, key=lambda d: d.produced_at)[-limit:]

    def document_state(self) -> tuple[dict[str, str], dict[str, int]]:
        """Per document key: its emdrId and highest version sent (so a restart continues the numbering)."""
        emdr: dict[str, str] = {}
        versions: dict[str, int] = {}
        for items in self.by_id.values():
            for d in items:
                item = d.body.get("registryItem")
                if isinstance(item, dict) and isinstance(item.get("documentVersion"), int):
                    emdr.setdefault(d.key, str(item.get("emdrId")))
                    versions[d.key] = max(versions.get(d.key, 0), item["documentVersion"])
        return emdr, versions

    def clear(self) -> None:
        self.db.execute("DELETE FROM fhsemd_delivery")
        self.by_id.clear()
        self.pending.clear()
