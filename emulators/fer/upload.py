"""One showcase upload (FER-API-1): FLK, duplicates, references, ownership, partial storage, the envelope."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulators.fer import catalogue as texts
from emulators.fer.entities import Entity
from emulators.fer.showcase import Showcase

# what kind of failure each code is: decides the answer's status (403 > 400 > 422)
CATEGORY = {"R-230": 403, "R-310": 422, "R-330": 422}
REQUIREMENT = {
    "R-100": "FER-FLK-1", "R-110": "FER-FLK-2", "R-120": "FER-FLK-2", "R-130": "FER-FLK-2", "R-150": "FER-FLK-2",
    "R-140": "FER-FLK-3", "R-160": "FER-FLK-4", "R-170": "FER-FLK-2", "R-200": "FER-REF-1", "R-210": "FER-REF-2",
    "R-220": "FER-REF-3", "R-230": "FER-AUTH-5", "R-310": "FER-DUP-2", "R-330": "FER-DUP-3",
}  # fmt: skip
# entities whose all-valid batches of new records take the columnar fast path (books and MOs have extra checks)
FAST_ENTITIES = frozenset({"slot", "service", "unaccessable_period", "profilecode_resource"})
PARENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "resource": (("mo_id", "mo"),),
    "service": (("resource_id", "resource"),),
    "slot": (("mo_id", "mo"), ("resource_id", "resource")),
    "book": (("slot_id", "slot"),),
    "unaccessable_period": (("resource_id", "resource"),),
    "profilecode_resource": (("resource_id", "resource"),),
}


@dataclass
class Problem:
    index: int
    key: str | None
    code: str
    message: str


@dataclass
class Outcome:
    """What an upload did: the records stored and the problems of the rest."""

    entity: str
    stored: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ticket: int = 0  # the showcase log's ticket for what was stored (await it before answering)

    @property
    def status(self) -> int:
        if not self.problems:
            return 200
        kinds = {CATEGORY.get(p.code, 400) for p in self.problems}
        return 403 if 403 in kinds else 400 if 400 in kinds else 422

    def top_error(self) -> tuple[str, str]:
        first = self.problems[0]
        if self.status == 422 and first.code == "R-330":
            ids = ", ".join(dict.fromkeys(p.key or "" for p in self.problems if p.code == "R-330"))
            return first.message + f" [{ids}].", "R-310"
        code = texts.STATUS[self.status].code or ""
        if self.status == 400 and len(self.problems) > 1:
            return f"{first.message} (всего ошибок: {len(self.problems)})", code
        return first.message, code

    def violations(self, limit: int = 20) -> list[dict[str, str]]:
        found = []
        for problem in self.problems[:limit]:
            requirement = REQUIREMENT.get(problem.code, "FER-FLK-1")
            if problem.code == "R-330" and self.entity == "mo":
                requirement = "FER-DUP-1"
            found.append({"requirement": requirement, "record": problem.key or f"#{problem.index}",
                          "message": problem.message})  # fmt: skip
        return found


class Upload:
    """Checks a batch against the contract and the stored showcase, then stores what passes."""

    def __init__(
        self,
        entity: Entity,
        showcase: Showcase,
        principal_oid: str,
        enforce_ownership: bool,
        ext_id_of_slot: Callable[[str], str | None],
        require_parents: bool = True,
    ) -> None:
        self.entity = entity
        self.showcase = showcase
        self.oid = principal_oid
        self.enforce_ownership = enforce_ownership
        self.ext_id_of_slot = ext_id_of_slot
        self.require_parents = require_parents  # fer.require_parents: refuse orphans (FER-REF-1, reconstructed)
        self.outcome = Outcome(entity.name)

    def run(self, records: list[Any], now_iso: str) -> Outcome:
        if self.entity.name in FAST_ENTITIES and self._run_fast(records, now_iso):
            return self.outcome
        candidates = self._check_format(records)
        accepted = [(i, r) for i, r in candidates if self._check_integrity(i, r)]
        accepted = self._check_duplicates(accepted)
        stored = []
        for _, record in accepted:
            record["update_ts"] = now_iso
            stored.append(record)
        self.outcome.ticket = self.showcase.upsert(self.entity.name, self.oid, stored)
        self.outcome.stored = [r[self.entity.key] for r in stored]
        self.outcome.problems.sort(key=lambda p: p.index)
        return self.outcome

    def _run_fast(self, records: list[Any], now_iso: str) -> bool:
        """The whole batch at once, column by column; False (nothing done) if any record needs a closer look.

        Only a batch in which every record passes is handled here, so the per-record path stays the one
        reference for errors; tests check that both paths store the same thing.
        """
        check = self.entity.batch_is_valid
        if check is None or not records:
            return False
        if not check(records):
            return False
        key_name = self.entity.key
        keys = list(map(operator.itemgetter(key_name), records))
        if len(set(keys)) != len(keys) or not self._parents_fast(records):
            return False
        if self.showcase.any_stored(self.entity.name, keys):
            return False  # updates go one by one (index maintenance, ownership of the stored row)
        if self.entity.name == "slot":
            times = list(
                zip(map(operator.itemgetter("resource_id"), records), map(operator.itemgetter("visit_time"), records))
            )
            if len(set(times)) != len(times) or any(map(self.showcase.slot_times.__contains__, times)):
                return False
            durations = list(map(operator.itemgetter("duration"), records))
            if str in set(map(type, durations)):
                for record in records:
                    _normalise_duration(record)
        self._note_service_fields(records)
        list(map(dict.__setitem__, records, itertools.repeat("update_ts"), itertools.repeat(now_iso)))
        self.outcome.ticket = self.showcase.insert_new(self.entity.name, self.oid, records, keys)
        self.outcome.stored = keys
        return True

    def _parents_fast(self, records: list[dict[str, Any]]) -> bool:
        owners: set[str] = set()
        for field_name, parent in PARENTS.get(self.entity.name, ()):
            found = self.showcase.owners_of(parent, set(map(operator.itemgetter(field_name), records)))
            if found is None:
                return False
            owners |= found
        if self.enforce_ownership and owners - {self.oid}:
            return False
        if self.entity.name == "slot":
            pairs = set(
                zip(map(operator.itemgetter("resource_id"), records), map(operator.itemgetter("mo_id"), records))
            )
            return all(self.showcase.value("resource", resource, "mo_id") == mo for resource, mo in pairs)
        return True

    def _note_service_fields(self, records: list[dict[str, Any]]) -> None:
        if records and max(map(len, records)) <= self.entity.required_count:
            return  # every record holds exactly its required fields: nothing extra was sent
        sent = sum(map(dict.__contains__, records, itertools.repeat("update_ts")))
        if sent:
            for record in records:
                record.pop("update_ts", None)
            self.outcome.notes.append(
                f"update_ts sent in {sent} record(s) and ignored: the service sets it (FER-FLK-5)"
            )
        unknown = set().union(*map(dict.keys, records)) - self.entity.fields
        if unknown:
            self.outcome.notes.append(
                f"fields unknown to the contract were stored as sent: {', '.join(sorted(unknown))}"
            )
        if self.entity.name == "resource":
            odd = [str(r.get("id")) for r in records if r.get("type") != "SPECIALIST" and "post_id" in r]
            if odd:
                self.outcome.notes.append(
                    f"post_id sent for a MACHINE/ROOM resource and stored ({', '.join(odd[:5])}): the seed marks"
                    " only the other specialist fields «не указывается» there (FER-FLK-4)"
                )

    def _fail(self, index: int, key: str | None, text: texts.Text | tuple[str, str], **values: Any) -> None:
        if isinstance(text, tuple):
            code, message, prefixed = text[0], text[1], True
        else:
            code, message, prefixed = text.code or "", text.format(**values), text.prefixed
        if prefixed:
            prefix = texts.RECORD_PREFIX[self.entity.name] if key else texts.RECORD_PREFIX_NO_ID
            message = prefix.format(id=key, index=index + 1) + message
        self.outcome.problems.append(Problem(index, key, code, message))

    def _check_format(self, records: list[Any]) -> list[tuple[int, dict[str, Any]]]:
        entity, key_name = self.entity, self.entity.key
        is_slot = entity.name == "slot"
        seen: set[str] = set()
        passed = []
        for index, record in enumerate(records):
            if is_slot and type(record) is dict:
                _normalise_duration(record)
            key = record.get(key_name) if type(record) is dict else None
            key = key if type(key) is str else None
            errors = entity.check(record)
            if errors:
                for error in errors:
                    self._fail(index, key, error)
                continue
            assert key is not None
            if key in seen:
                self._fail(index, key, texts.DUP_IN_REQUEST, genitive=texts.GENITIVE[entity.name], field=key_name)
                continue
            seen.add(key)
            passed.append((index, record))
        self._note_service_fields([record for _, record in passed])
        return passed

    def _check_integrity(self, index: int, record: dict[str, Any]) -> bool:
        key = record[self.entity.key]
        owner = self.oid
        missing = []
        for field_name, parent in PARENTS.get(self.entity.name, ()):
            parent_owner = self.showcase.owner(parent, record[field_name])
            if parent_owner is None:
                missing.append((field_name, parent))
                continue
            owner = parent_owner
        if missing and self.entity.name != "book" and not self.require_parents:
            self.outcome.notes.append(
                f"{self.entity.name} {key}: stored although its {', '.join(f for f, _ in missing)} is not uploaded yet"
                " (the seed only recommends the upload order; fer.require_parents = false)"
            )
        elif missing:
            field_name, parent = missing[0]
            self._fail(index, key, texts.MISSING_PARENT, parent=texts.GENITIVE[parent], value=record[field_name],
                       field=field_name)  # fmt: skip
            return False
        if self.entity.name == "mo":
            owner = record["parent_id"]
        if not self._owned(index, key, owner):
            return False
        if self.entity.name == "slot" and not missing:
            actual = self.showcase.value("resource", record["resource_id"], "mo_id")
            if actual != record["mo_id"]:
                self._fail(index, key, texts.PARENT_MISMATCH, resource_id=record["resource_id"], actual=actual,
                           mo_id=record["mo_id"])  # fmt: skip
                return False
        if self.entity.name == "book":
            return self._check_book(index, key, record)
        return True

    def _owned(self, index: int, key: str, owner: str) -> bool:
        if not self.enforce_ownership:
            return True
        stored_owner = self.showcase.owner(self.entity.name, key)
        for candidate in (owner, stored_owner):
            if candidate is not None and candidate != self.oid:
                self._fail(index, key, texts.FOREIGN_MO, owner=candidate, principal=self.oid)
                return False
        return True

    def _check_book(self, index: int, key: str, record: dict[str, Any]) -> bool:
        slot_id = record["slot_id"]
        status = self.showcase.value("slot", slot_id, "status")
        # FER-REF-2 is about an active booking (5000); a cancelled book (5010, 5040) follows a slot made AVAILABLE
        if record.get("status_code") == 5000 and status != "RECORDED":
            self._fail(index, key, texts.BOOK_SLOT_NOT_RECORDED, slot_id=slot_id, status=status)
            return False
        ext_id = self.ext_id_of_slot(slot_id)
        if ext_id is not None and ext_id != key:
            self._fail(index, key, texts.BOOK_ID_NOT_EXT_ID, slot_id=slot_id, id=key, book_ext_id=ext_id)
            return False
        return True

    def _check_duplicates(self, accepted: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
        if self.entity.name == "slot":
            return self._unique(
                accepted, _slot_time, self._stored_slot, texts.DUP_SLOT_TIME, texts.DUP_SLOT_TIME_IN_REQUEST
            )
        if self.entity.name == "mo":
            return self._unique(accepted, _mo_name, self._stored_mo, texts.DUP_MO_NAME, texts.DUP_MO_NAME_IN_REQUEST)
        return accepted

    def _stored_slot(self, value: Any) -> set[str]:
        found = self.showcase.slot_times.get(value)
        return {found} if found else set()

    def _stored_mo(self, value: Any) -> set[str]:
        return set(self.showcase.tables["mo"].keys_where("name", value))

    def _unique(
        self,
        accepted: list[tuple[int, dict[str, Any]]],
        value_of: Callable[[dict[str, Any]], Any],
        stored: Callable[[Any], set[str]],
        stored_text: texts.Text,
        batch_text: texts.Text,
    ) -> list[tuple[int, dict[str, Any]]]:
        """FER-DUP-1/3: a natural key held by another id, in the showcase or earlier in this batch."""
        moving = {record["id"]: value_of(record) for _, record in accepted}
        claimed: dict[Any, str] = {}
        kept = []
        for index, record in accepted:
            key, value = record["id"], value_of(record)
            holders = [k for k in stored(value) if k != key and moving.get(k, value) == value]
            if holders:
                self._fail(index, key, stored_text, id=key, other=sorted(holders)[0])
            elif value in claimed:
                self._fail(index, key, batch_text, id=key, other=claimed[value])
            else:
                claimed[value] = key
                kept.append((index, record))
        return kept


def _slot_time(record: dict[str, Any]) -> tuple[str, str]:
    return (record["resource_id"], record["visit_time"])


def _mo_name(record: dict[str, Any]) -> str:
    return record["name"]


def _normalise_duration(record: dict[str, Any]) -> None:
    # The table says integer; the seed's own examples send "20": store the integer either way.
    value = record.get("duration")
    if type(value) is str and 0 < len(value) <= 4 and value.isascii() and value.isdigit():
        record["duration"] = int(value)
