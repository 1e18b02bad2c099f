"""SEMD-6 faults: what a request's `fault` (or an armed `/__admin/faults` duplicate/poison) turns one result into."""

from __future__ import annotations

import copy
import dataclasses

from emulators.fhsemd.messages import Generator, Result, SpecError

# duplicate: the same record (same messageId, same bytes) written twice;
# unknown-relates-to: relatesToMessage replaced by an id the MIS never sent;
# poison: a value that is not JSON (in `headers` framing the Kafka headers stay readable);
# out-of-order: the next version of the document written first, then this one.
KINDS = ("duplicate", "unknown-relates-to", "poison", "out-of-order")


def apply_fault(result: Result, kind: str | None, generator: Generator) -> list[Result]:
    """The records to produce, in order, for `result` under fault `kind` (None: just the result)."""
    if kind is None:
        return [result]
    if kind not in KINDS:
        raise SpecError(f"fault must be one of {', '.join(KINDS)}")
    marked = dataclasses.replace(result, fault=kind)
    if kind == "duplicate":
        return [marked, marked]
    if kind == "poison":
        return [dataclasses.replace(marked, poison=True)]
    if kind == "unknown-relates-to":
        body = {**marked.body, "relatesToMessage": generator.uuid()}
        return [dataclasses.replace(marked, body=body)]
    return _out_of_order(marked, generator)


def _out_of_order(result: Result, generator: Generator) -> list[Result]:
    item = result.body.get("registryItem")
    if not isinstance(item, dict):
        raise SpecError("out-of-order needs a success result (versions live in registryItem)")
    newer_body = copy.deepcopy(result.body)
    newer_body["registryItem"]["documentVersion"] = item["documentVersion"] + 1
    generator.versions[result.key] = max(generator.versions.get(result.key, 0), item["documentVersion"] + 1)
    newer_header = {**result.header, "messageId": generator.uuid()}
    return [dataclasses.replace(result, header=newer_header, body=newer_body), result]
