"""The «Витрина данных» state: the eight tables in memory with their indexes, made durable by a RecordLog.

Why in memory: the ingest target (100 000 slots/s with every check) leaves a few microseconds per slot;
one SQLite row per slot costs several times that on the reference machine. Each upload is written as
one log entry instead, group-committed by the log's writer thread and compacted into snapshots.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from emulators.core.storage import RecordLog



class Row(NamedTuple):
    """One record as callers see it: the record, the MO OID that owns it, and the kept field values."""

    record: dict[str, Any]
    owner: str
    values: tuple[Any, ...]


# Stored rows hold the record packed as (field names, values): tuples of plain values leave the cyclic GC's
# lists at its next pass, where dicts stay until they reach the oldest generation — with hundreds of
# thousands of slots, the difference between 40 and 80 ms at p99 per upload here. Field-name tuples are shared.
Packed = tuple[tuple[str, ...], tuple[Any, ...]]
StoredRow = tuple[Packed, str, tuple[Any, ...]]
_LAYOUTS: dict[tuple[str, ...], tuple[str, ...]] = {}


def pack(record: dict[str, Any]) -> Packed:
    names = tuple(record)
    return (_LAYOUTS.setdefault(names, names), tuple(record.values()))


def unpack(packed: Packed) -> dict[str, Any]:
    return dict(zip(packed[0], packed[1], strict=True))


# entity -> fields kept beside the JSON (Row[2], in this order); INDEXED ones also get value -> keys groups
GROUPS: dict[str, tuple[str, ...]] = {
    "mo": ("parent_id", "name"),
    "resource": ("mo_id",),
    "service": ("resource_id",),
    "slot": ("resource_id", "mo_id", "visit_time", "status", "tag_type", "tag_age"),
    "book": ("slot_id", "referral_id"),
    "referral": ("patient_id",),
    "unaccessable_period": ("resource_id",),
    "profilecode_resource": ("resource_id",),
}
# read from the row; a group per value would cost memory (ЕПГУ's search scans the kept values, never the records)
NOT_INDEXED = {"slot": ("visit_time", "status", "tag_type", "tag_age")}
KEYS = {name: ("period_id" if name == "unaccessable_period" else "id") for name in GROUPS}
# FER-DEL-1: what goes with a parent, as (child entity, child field naming the parent)
CASCADE: dict[str, tuple[tuple[str, str], ...]] = {
    "mo": (("resource", "mo_id"), ("slot", "mo_id")),
    "resource": (("slot", "resource_id"), ("service", "resource_id"), ("profilecode_resource", "resource_id"),
                 ("unaccessable_period", "resource_id")),
    "slot": (("book", "slot_id"),),
}  # fmt: skip


@dataclass
class Table:
    name: str
    fields: tuple[str, ...]
    rows: dict[str, StoredRow] = field(default_factory=dict)
    groups: dict[str, dict[Any, set[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.groups = {f: {} for f in self.fields if f not in NOT_INDEXED.get(self.name, ())}
        self.indexed = tuple((i, f) for i, f in enumerate(self.fields) if f in self.groups)

    def put(self, key: str, record: dict[str, Any], oid: str) -> None:
        values = tuple(record.get(f) for f in self.fields)
        old = self.rows.get(key)
        if old is not None:
            if old[2] == values:
                self.rows[key] = (pack(record), oid, values)
                return
            self._unindex(key, old[2])
        self.rows[key] = (pack(record), oid, values)
        for position, name in self.indexed:
            value = values[position]
            if value is not None:
                self.groups[name].setdefault(value, set()).add(key)

    def put_new(self, keys: list[str], records: list[dict[str, Any]], oid: str, columns: dict[str, list[Any]]) -> None:
        """Bulk insert of records whose keys are not stored yet (the ingest fast path)."""
        values = list(zip(*(columns[f] for f in self.fields))) if self.fields else [()] * len(keys)
        self.rows.update(zip(keys, zip(map(pack, records), itertools.repeat(oid), values)))
        for _, name in self.indexed:
            group, column = self.groups[name], columns[name]
            distinct = set(column)
            if len(distinct) == 1:
                (value,) = distinct
                if value is not None:
                    group.setdefault(value, set()).update(keys)
                continue
            for key, value in zip(keys, column):
                if value is not None:
                    group.setdefault(value, set()).add(key)

    def remove(self, key: str) -> StoredRow | None:
        old = self.rows.pop(key, None)
        if old is not None:
            self._unindex(key, old[2])
        return old

    def _unindex(self, key: str, values: tuple[Any, ...]) -> None:
        for position, name in self.indexed:
            members = self.groups[name].get(values[position])
            if members is not None:
                members.discard(key)
                if not members:
                    del self.groups[name][values[position]]

    def keys_where(self, field_name: str, value: Any) -> set[str]:
        if field_name in self.groups:
            return self.groups[field_name].get(value, set())
        position = self.fields.index(field_name)
        return {key for key, row in self.rows.items() if row[2][position] == value}

    def value(self, key: str, field_name: str) -> Any:
        row = self.rows.get(key)
        return None if row is None else row[2][self.fields.index(field_name)]


class Showcase:
    """All tables, their durable log, and the few queries the gateway needs."""

    def __init__(self, log: RecordLog | None) -> None:
        self.log = log
        self.tables = {name: Table(name, fields) for name, fields in GROUPS.items()}
        self.slot_times: dict[tuple[str, str], str] = {}  # (resource_id, visit_time) -> slot id (FER-DUP-3)
        self.logged_rows = 0  # rows written to the log since the last snapshot
        self.last_ticket = 0  # the log's ticket of the latest change: awaiting it covers every change before
        self._slot_times_order: list[tuple[str, str]] = []  # see _slot_order
        self._slot_pending: list[tuple[str, str]] = []

    def load(self) -> int:
        """Rebuild from the log; returns how many log entries were replayed."""
        if self.log is None:
            return 0
        replayed = 0
        for op, payload in self.log.replay():
            entry = orjson.loads(payload)
            if op in {"snapshot", "upsert"}:
                for oid, record in entry["rows"]:
                    self._put(entry["e"], oid, record)
            elif op == "delete":
                for key in entry["keys"]:
                    self._remove(entry["e"], key)
            replayed += 1
        if replayed > self.log.compact_after // 2:
            self.compact()
        return replayed

    def upsert(self, entity: str, oid: str, records: list[dict[str, Any]]) -> int:
        """Store validated records (all owned by `oid`) and log them as one entry; returns the log ticket."""
        for record in records:
            self._put(entity, oid, record)
        ticket = 0
        if self.log is not None and records:
            ticket = self.last_ticket = self.log.append(
                "upsert", orjson.dumps({"e": entity, "rows": [(oid, r) for r in records]})
            )
            self.logged_rows += len(records)
            self._maybe_compact()
        return ticket

    async def durable(self, ticket: int) -> None:
        """Wait until the log entry `ticket` (and all before it) is committed (0: nothing to wait for)."""
        if ticket and self.log is not None:
            await self.log.durable(ticket)

    def insert_new(self, entity: str, oid: str, records: list[dict[str, Any]], keys: list[str]) -> int:
        """Store records known to be new (no stored row with their keys), in bulk, and log them as one entry."""
        table = self.tables[entity]
        columns: dict[str, list[Any]] = {f: list(map(dict.get, records, itertools.repeat(f))) for f in table.fields}
        table.put_new(keys, records, oid, columns)
        if entity == "slot":
            self.slot_times.update(zip(zip(columns["resource_id"], columns["visit_time"]), keys))
            self._slot_pending.extend(zip(columns["visit_time"], keys))
        if self.log is not None and records:
            # one dumps for the whole batch: per-record calls cost ~3 µs each here (a 4 KiB buffer apiece)
            rows = list(zip(itertools.repeat(oid), records))
            ticket = self.last_ticket = self.log.append("upsert", orjson.dumps({"e": entity, "rows": rows}))
            self.logged_rows += len(records)
            self._maybe_compact()
            return ticket
        return 0

    def _put(self, entity: str, oid: str, record: dict[str, Any]) -> None:
        key = record[KEYS[entity]]
        table = self.tables[entity]
        if entity == "slot":
            old = table.rows.get(key)
            if old is not None:
                old_time = (old[2][0], old[2][2])
                if self.slot_times.get(old_time) == key:
                    del self.slot_times[old_time]
            if old is None or old[2][2] != record["visit_time"]:  # an unchanged time keeps its entry valid
                self._slot_pending.append((record["visit_time"], key))
            self.slot_times[(record["resource_id"], record["visit_time"])] = key
        table.put(key, record, oid)

    def delete(self, entity: str, key: str) -> tuple[dict[str, list[str]], int]:
        """Delete one record and its dependants (FER-DEL-1); returns what was removed, per entity, and the ticket."""
        removed: dict[str, list[str]] = {}
        self._cascade(entity, key, removed)
        ticket = 0
        if self.log is not None:
            for name, keys in removed.items():
                ticket = self.last_ticket = self.log.append("delete", orjson.dumps({"e": name, "keys": keys}))
            self._maybe_compact()
        return removed, ticket

    def _cascade(self, entity: str, key: str, removed: dict[str, list[str]]) -> None:
        if key not in self.tables[entity].rows:
            return
        for child, field_name in CASCADE.get(entity, ()):
            for child_key in list(self.tables[child].keys_where(field_name, key)):
                self._cascade(child, child_key, removed)
        self._remove(entity, key)
        removed.setdefault(entity, []).append(key)

    def _remove(self, entity: str, key: str) -> None:
        old = self.tables[entity].remove(key)
        if entity == "slot" and old is not None:
            old_time = (old[2][0], old[2][2])
            if self.slot_times.get(old_time) == key:
                del self.slot_times[old_time]

    def get(self, entity: str, key: str) -> Row | None:
        row = self.tables[entity].rows.get(key)
        return None if row is None else _unpacked(row)

    def rows_where(self, entity: str, field_name: str, value: Any) -> list[Row]:
        table = self.tables[entity]
        return [_unpacked(table.rows[k]) for k in sorted(table.keys_where(field_name, value))]

    def record(self, entity: str, key: str) -> dict[str, Any] | None:
        row = self.tables[entity].rows.get(key)
        return None if row is None else unpack(row[0])

    def value(self, entity: str, key: str, field_name: str) -> Any:
        """One kept field (GROUPS) of a stored record, or None."""
        return self.tables[entity].value(key, field_name)

    def exists(self, entity: str, key: str) -> bool:
        return key in self.tables[entity].rows

    def any_stored(self, entity: str, keys: Iterable[str]) -> bool:
        rows = self.tables[entity].rows
        return any(map(rows.__contains__, keys))

    def owners_of(self, entity: str, keys: Iterable[str]) -> set[str] | None:
        """The owners of these stored records, or None when one of them is not stored."""
        rows, owners = self.tables[entity].rows, set()
        for key in keys:
            row = rows.get(key)
            if row is None:
                return None
            owners.add(row[1])
        return owners

    def slot(self, key: str) -> SlotFacts | None:
        row = self.tables["slot"].rows.get(key)
        return None if row is None else SlotFacts(key, *row[2])

    def slots_between(self, resources: Iterable[str], after: str, before: str) -> list[SlotFacts]:
        """Slots of these resources with after < visit_time < before, read from the kept values only."""
        table = self.tables["slot"]
        rows, by_resource = table.rows, table.groups["resource_id"]
        found = []
        for resource in resources:
            for key in by_resource.get(resource, ()):
                values = rows[key][2]
                if after < values[2] < before:
                    found.append(SlotFacts(key, *values))
        return found

    def first_available_slot(
        self, resources: Iterable[str], after: str, before: str, tagged: Any, ages: frozenset[str] | None
    ) -> str | None:
        """The earliest AVAILABLE slot (by visit_time, then id) of these resources with after < visit_time < before,
        whose tag_type passes `tagged(tag_type)` and whose tag_age is in `ages` (any when None).

        Walks the time order from `after` and stops at the first match: nothing is unpacked, and only the slots
        before the answer are looked at (not every slot of the showcase)."""
        wanted = set(resources)
        rows = self.tables["slot"].rows
        order = self._slot_order()
        for visit, key in itertools.islice(order, bisect.bisect_right(order, (after, "\uffff")), None):
            if visit >= before:
                return None
            row = rows.get(key)
            if row is None:
                continue
            values = row[2]  # resource_id, mo_id, visit_time, status, tag_type, tag_age
            if values[2] != visit or values[3] != "AVAILABLE" or values[0] not in wanted:
                continue  # a stale entry (the slot moved), or not offered
            if (ages is None or values[5] in ages) and tagged(values[4]):
                return key
        return None

    def _slot_order(self) -> list[tuple[str, str]]:
        """(visit_time, id) of every slot, sorted; entries of moved or deleted slots stay until a rebuild.

        Kept lazily: uploads only append to `_slot_pending` (C-level `extend`, nothing on the ingest path);
        the first search after them merges (timsort merges the two sorted runs in linear time)."""
        if self._slot_pending:
            self._slot_pending.sort()
            if len(self._slot_times_order) + len(self._slot_pending) > 2 * len(self.tables["slot"].rows) + 1000:
                rows = self.tables["slot"].rows
                self._slot_times_order = sorted((row[2][2], key) for key, row in rows.items())
            else:
                self._slot_times_order.extend(self._slot_pending)
                self._slot_times_order.sort()
            self._slot_pending = []
        return self._slot_times_order

    def owner(self, entity: str, key: str) -> str | None:
        row = self.tables[entity].rows.get(key)
        return None if row is None else row[1]

    def counts(self) -> dict[str, int]:
        return {name: len(table.rows) for name, table in self.tables.items()}

    def owners(self) -> Iterable[str]:
        return {row[1] for table in self.tables.values() for row in table.rows.values()}

    def clear(self) -> None:
        for table in self.tables.values():
            table.rows.clear()
            for index in table.groups.values():
                index.clear()
        self.slot_times.clear()
        self._slot_times_order, self._slot_pending = [], []
        if self.log is not None:
            self.log.clear()

    def compact(self, chunk_rows: int = 20_000) -> None:
        """Write the whole state as a snapshot and drop the log; serialised in the log's writer thread."""
        if self.log is None:
            return
        frozen = [(name, list(table.rows.values())) for name, table in self.tables.items()]  # stored rows never change

        def chunks() -> Iterator[bytes]:
            for name, rows in frozen:
                for start in range(0, len(rows), chunk_rows):
                    part = [(oid, unpack(packed)) for packed, oid, _ in rows[start : start + chunk_rows]]
                    yield orjson.dumps({"e": name, "rows": part})

        self.log.compact(chunks)
        self.logged_rows = 0

    def _maybe_compact(self) -> None:
        # Compact only when the log outweighs the state it describes, so the cost stays proportional.
        if self.log is None or self.log.entries < self.log.compact_after:
            return
        if self.logged_rows >= sum(len(t.rows) for t in self.tables.values()):
            self.compact()


def _unpacked(row: StoredRow) -> Row:
    return Row(unpack(row[0]), row[1], row[2])


class SlotFacts(NamedTuple):
    """What ЕПГУ's search reads of a slot (the kept values of GROUPS["slot"]), without unpacking the record."""

    id: str
    resource_id: str
    mo_id: str
    visit_time: str
    status: str
    tag_type: str
    tag_age: str
