"""Result generation and SEMD-6 fault shapes without a broker: reproducible from a seed, framing, faults."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from emulators.fhsemd.faults import apply_fault
from emulators.fhsemd.messages import Generator, SpecError
from tests.fhsemd_support import contract_errors

MOMENT = dt.datetime(2025, 1, 15, 10, 30, tzinfo=dt.UTC)


@pytest.mark.req("X-4", "SEMD-3")
def test_same_seed_same_results_other_seed_others() -> None:
    def run(seed: int) -> list[str]:
        generator = Generator(seed)
        built = [generator.build({"relatesToMessage": f"r{n}", "status": s}, MOMENT) for n, s in
                 enumerate(["success", "error", "success"])]  # fmt: skip
        return [json.dumps([r.header, r.body], sort_keys=True) for r in built]

    assert run(7) == run(7)
    assert run(7) != run(8)


@pytest.mark.req("SEMD-2", "X-1")
def test_both_framings_and_the_seed_timestamp_format() -> None:
    generator = Generator(1)
    result = generator.build({"relatesToMessage": "r"}, MOMENT)
    assert result.header["timestamp"] == "2025-01-15T10:30:00.000Z"
    value, headers = result.record()
    assert [name for name, _ in headers] == ["messageType", "sourceSystem", "targetSystem", "messageId", "timestamp"]
    assert json.loads(value) == result.body
    envelope = generator.build({"relatesToMessage": "r", "framing": "envelope"}, MOMENT)
    value, headers = envelope.record()
    assert headers == [] and contract_errors("envelope", json.loads(value)) == []


@pytest.mark.req("SEMD-6")
def test_fault_shapes() -> None:
    generator = Generator(1)
    base = generator.build({"relatesToMessage": "r", "document": "d"}, MOMENT)
    one, two = apply_fault(base, "duplicate", generator)
    assert one.record() == two.record()
    (poison,) = apply_fault(base, "poison", generator)
    with pytest.raises(json.JSONDecodeError):
        json.loads(poison.record()[0])
    (unknown,) = apply_fault(base, "unknown-relates-to", generator)
    assert unknown.relates_to != "r" and unknown.message_id == base.message_id
    newer, older = apply_fault(base, "out-of-order", generator)
    assert newer.key == older.key == "d" and newer.message_id != older.message_id
    assert (newer.body["registryItem"]["documentVersion"], older.body["registryItem"]["documentVersion"]) == (2, 1)
    assert generator.build({"relatesToMessage": "r2", "document": "d"}, MOMENT).body["registryItem"][
        "documentVersion"] == 3  # fmt: skip
    with pytest.raises(SpecError):
        apply_fault(base, "flood", generator)
