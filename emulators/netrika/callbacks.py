"""The MIS callback contract (contracts/netrika/mis-callback.openapi.yaml): messages checked before they are
sent, acknowledgements judged when they come back (NET-1, NET-2)."""

from __future__ import annotations

from typing import Any

import orjson

from emulators.core.contract import Contract, compile_detailed, contracts_dir
from emulators.core.delivery import Verdict
from emulators.core.formats import FORMATS
from emulators.core.outbound import Reply
from emulators.core.validation import compile_check
from emulators.netrika.messages import MESSAGE_TYPES

CONTRACT = "netrika/mis-callback.openapi.yaml"


class Callbacks:
    """Compiled checks of the six message schemas and of the acknowledgement."""

    def __init__(self, contract: Contract | None = None) -> None:
        self.contract = contract or Contract(contracts_dir() / CONTRACT)
        self._checks = {name: compile_check(self.contract.schema(name), FORMATS) for name in (*MESSAGE_TYPES, "Ack")}
        self._detailed = {name: compile_detailed(self.contract.schema(name), FORMATS)
                          for name in (*MESSAGE_TYPES, "Ack")}  # fmt: skip

    def errors(self, schema: str, value: Any) -> list[str]:
        """Every way `value` breaks `schema` (empty when it is valid)."""
        if self._checks[schema](value):
            return []
        found = sorted(self._detailed[schema].iter_errors(value), key=lambda e: list(e.absolute_path))
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in found]

    def judge_ack(self, reply: Reply, message_id: str) -> Verdict:
        """A 2xx answer: delivered only if it is the section-6 acknowledgement of this very MessageId."""
        try:
            ack = orjson.loads(reply.body)
        except orjson.JSONDecodeError as exc:
            return _refused("invalid_json", f"the acknowledgement is not JSON ({exc})")
        problems = self.errors("Ack", ack)
        if problems:
            return _refused("ack_schema", "the acknowledgement breaks section 6: " + "; ".join(problems))
        if str(ack["MessageId"]).lower() != message_id.lower():
            return _refused(
                "wrong_message_id",
                f"the acknowledgement's MessageId {ack['MessageId']} is not the message's {message_id}",
            )
        notes: tuple[str, ...] = ()
        if ack["Status"] == "Failed":
            notes = (f"the MIS acknowledged with Status Failed: {ack['Message']}",)
        return Verdict(True, "ok", ack=ack, notes=notes)


def _refused(outcome: str, error: str) -> Verdict:
    return Verdict(False, outcome, error, violations=({"requirement": "NET-2", "message": error},))
