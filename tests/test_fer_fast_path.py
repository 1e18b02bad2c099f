"""The columnar fast path of uploads judges and stores exactly as the per-record path does."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from emulators.core.config import load_settings
from emulators.fer.gateway import Gateway
from emulators.fer.upload import Upload
from tests import fer_data as data
from tests.conftest import SEED_OID

MUTATIONS: list[tuple[str, Any]] = [
    ("id", "AAAAAAAA-5eff-49b8-9d07-ff2486162b3f"), ("id", 7), ("id", "aaaaaaa1-5eff-49b8-9d07ff2486162b3f-"),
    ("mo_id", None), ("resource_id", "x"), ("tag_type", "EPGU,NOPE"), ("tag_type", ""), ("tag_age", "OLD"),
    ("visit_time", "2024-02-30T10:00:00"), ("visit_time", "2024-03-01T10:00"), ("visit_time", "2024-03-01 10:00:00"),
    ("visit_time", "2024-03-01T1٠:00:00"), ("duration", "20"), ("duration", True), ("duration", 0), ("duration", 1.5),
    ("duration", "０"), ("status", ["AVAILABLE"]), ("status", "FREE"), ("create_ts", "yesterday"), ("create_ts", 1),
    ("update_ts", "2020-01-01T00:00:00"), ("extra_field", 1),
    # Python's `$` accepts a trailing newline: the record-level and the column-level GUID checks must agree
    ("id", "aaaaaaa1-5eff-49b8-9d07-ff2486162b3f\n"), ("id", "aaaaaaa1-5eff-49b8-9d07-ff2486162b3\n"),
    ("mo_id", "aaaaaaa1-5eff-49b8-9d07-ff2486162b3f\n"), ("resource_id", "\naaaaaa1-5eff-49b8-9d07-ff2486162b3f"),
    ("visit_time", "2024-03-01T10:00:00\n"), ("visit_time", "2024-03-01T10:00:0\n"),
]  # fmt: skip


def gateways(tmp_path: Path) -> tuple[Gateway, Gateway, list[dict[str, Any]]]:
    made = []
    for name in ("fast", "slow"):
        gateway = Gateway(
            load_settings(overrides={"database_url": "sqlite:///:memory:", "data_dir": str(tmp_path / name)})
        )
        made.append(gateway)
    mos = [data.mo() for _ in range(3)]
    rooms = [data.room(mo["id"]) for mo in mos for _ in range(4)]
    for gateway in made:
        gateway.upload("mo", SEED_OID, copy.deepcopy(mos))
        gateway.upload("resource", SEED_OID, copy.deepcopy(rooms))
    return made[0], made[1], rooms


def batch(rng: random.Random, rooms: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    records = []
    for i in range(size):
        room = rng.choice(rooms)
        visit = f"2025-0{rng.randint(1, 9)}-{rng.randint(10, 28)}T{rng.randint(10, 19)}:{i % 60:02d}:00"
        records.append(data.slot(room["mo_id"], room["id"], visit, duration=rng.choice([15, 20, "30"])))
    return records


@pytest.mark.req("FER-FLK-1", "FER-FLK-2", "FER-FLK-6", "FER-DUP-3")
@pytest.mark.parametrize("seed", range(12))
def test_fast_and_per_record_paths_agree(tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    fast, slow, rooms = gateways(tmp_path)
    taken: list[bool] = []
    original = Upload._run_fast

    def spy(self: Upload, records: list[Any], now: str) -> bool:
        taken.append(original(self, records, now))
        return taken[-1]

    monkeypatch.setattr(Upload, "_run_fast", spy)
    for round_number in range(6):
        records = batch(rng, rooms, rng.randint(1, 40))
        if round_number and rng.random() < 0.6:  # the first round is clean: the fast path must take it
            victim = rng.choice(records)
            field, value = rng.choice(MUTATIONS)
            victim[field] = value
        if round_number and rng.random() < 0.2:
            records.append(copy.deepcopy(rng.choice(records)))
        fast_answer = fast.upload("slot", SEED_OID, copy.deepcopy(records)).response
        with monkeypatch.context() as patched:
            patched.setattr(Upload, "_run_fast", lambda self, records, now: False)
            slow_answer = slow.upload("slot", SEED_OID, copy.deepcopy(records)).response
        assert _comparable(fast_answer.body) == _comparable(slow_answer.body)
        assert fast.showcase.counts() == slow.showcase.counts()
        assert fast.showcase.slot_times.keys() == slow.showcase.slot_times.keys()
        assert fast_answer.notes == slow_answer.notes
    assert any(taken), "the fast path was never taken"
    for key in fast.showcase.tables["slot"].rows:
        row, other = fast.showcase.get("slot", key), slow.showcase.get("slot", key)
        assert row is not None and other is not None
        assert _no_ts(row.record) == _no_ts(other.record) and (row.owner, row.values) == (other.owner, other.values)
    for gateway in (fast, slow):
        gateway.close()


def _comparable(body: bytes) -> Any:
    return orjson.loads(body)


def _no_ts(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "update_ts"}


@pytest.mark.req("FER-FLK-2")
@pytest.mark.parametrize(
    "value", ["aaaaaaa1-5eff-49b8-9d07-ff2486162b3f\n", "aaaaaaa1-5eff-49b8-9d07-ff2486162b3\n", "aaaaaaa1-5eff-49b8-9d07-ff2486162b3 "]
)
def test_record_and_column_guid_checks_agree_on_trailing_whitespace(value: str) -> None:
    from emulators.core.formats import COLUMN_FORMATS, FORMATS

    column = COLUMN_FORMATS["guid"]
    try:
        whole = column([value])
    except ValueError:  # a column check that raises is a "no" as well (the caller falls back per record)
        whole = False
    assert FORMATS["guid"](value) is False and whole is False
