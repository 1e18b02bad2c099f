"""Calls from the central API into a local MIS, each validated against local-mis.openapi.yaml and classified.

Outcomes, as for the FER booking answers: `success` (2xx whose body matches the contract), `business_error`
(a documented 4xx with the contract's Error body), `violation` (an answer that breaks the contract),
`timeout` (nothing within the deadline), `transport_error` (refused, dropped, 5xx or an undocumented status).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import orjson

from emulators.core.contract import Contract, compile_detailed
from emulators.core.formats import FORMATS
from emulators.core.outbound import Outbound, Reply
from emulators.lmis import catalogue as texts
from emulators.lmis.settings import LmisSettings

SCHEMAS = ("ResourcesResponse", "ScheduleResponse", "AppointmentRequest", "Appointment", "CancelResponse",
           "Referral", "ReferralAppointments", "Error")  # fmt: skip


@dataclass
class Exchange:
    """One call into a local MIS and what it came to."""

    step: str
    operation: str
    outcome: str
    message: str
    http_status: int | None = None
    latency_ms: float | None = None
    answer: Any = None
    code: str | None = None  # the business error's code
    violations: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == "success"

    def violate(self, requirement: str, message: str) -> None:
        """A rule the schema cannot express is broken (the wrong slot, a slot booked twice …)."""
        self.message = message if self.outcome == "success" else f"{self.message}; {message}"
        self.outcome = "violation"
        self.violations.append({"requirement": requirement, "message": message})

    def as_step(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"step": self.step, "operation": self.operation, "outcome": self.outcome,
                                 "message": self.message, "http_status": self.http_status,
                                 "latency_ms": self.latency_ms}  # fmt: skip
        if self.code:
            shown["code"] = self.code
        if self.violations:
            shown["violations"] = self.violations
        return shown


class LocalMisClient:
    """The central API's client of every local MIS: paths, token header and field names from `[lmis]`."""

    def __init__(self, outbound: Outbound, settings: LmisSettings, contract: Contract) -> None:
        self.outbound = outbound
        self.settings = settings
        self.validators = {name: compile_detailed(contract.schema(name), FORMATS) for name in SCHEMAS}
        self.to_contract, self.to_deployment = _aliases(settings.field_aliases)

    async def call(
        self, step: str, operation: str, base_url: str, method: str, path: str, schema: str, requirement: str, *,
        token: str | None = None, body: dict[str, Any] | None = None, params: Mapping[str, str] | None = None,
        deadline: float | None = None, check: Callable[[Exchange], None] | None = None,
    ) -> Exchange:  # fmt: skip
        """Send, wait at most `deadline` seconds, classify, journal; never raises for what the MIS does."""
        if body is not None:
            own = [e.message for e in self.validators["AppointmentRequest"].iter_errors(body)]
            if own and schema == "Appointment":  # our own request breaking the contract is our bug
                raise AssertionError(f"medstand built an invalid AppointmentRequest: {own}")
        headers = {}
        if token is not None:
            headers[self.settings.token_header] = f"{self.settings.token_scheme} {token}".strip()
        url = base_url.rstrip("/") + path + ("?" + urllib.parse.urlencode(dict(params)) if params else "")
        sent = _rename(body, self.to_deployment) if body is not None else None
        reply = await self.outbound.call(
            operation, method, url, deadline or self.settings.call_deadline_seconds, sent, journal=False,
            headers=headers,
        )  # fmt: skip
        exchange = self._classify(step, operation, reply, schema, requirement)
        if check is not None and exchange.ok:
            check(exchange)  # checks beyond the schema, before journaling, so the journal tells the verdict
        self.outbound.record(
            operation, method, url, reply, outcome=exchange.outcome, violations=exchange.violations,
            summary=f"{exchange.outcome}: {exchange.message}"[:300],
        )  # fmt: skip
        return exchange

    def _classify(self, step: str, operation: str, reply: Reply, schema: str, requirement: str) -> Exchange:
        base = Exchange(step, operation, "timeout", "", reply.status, reply.latency_ms)
        if reply.failure == "timeout":
            base.message = f"no answer from the local MIS within {self.settings.call_deadline_seconds:g} s"
            return base
        if reply.failure is not None or reply.status is None:
            base.outcome, base.message = "transport_error", f"connection to the local MIS failed: {reply.detail}"
            return base
        answer = _json(reply.body)
        base.answer = _rename(answer, self.to_contract)
        if 200 <= reply.status < 300:
            return self._check(base, schema, requirement, "success", "answer matches the contract")
        if reply.status in (401, 404, 409):
            checked = self._check(base, "Error", requirement, "business_error", "")
            if checked.outcome == "business_error":
                error = checked.answer["error"]
                checked.code = error["code"]
                expected = texts.LOCAL_ERRORS[error["code"]][0]
                checked.message = f"{error['code']}: {error['message']}"
                if expected != reply.status:
                    checked.violations.append({"requirement": requirement, "message":
                        f"{error['code']} is answered with HTTP {expected}, not {reply.status}"})  # fmt: skip
            return checked
        base.outcome, base.message = "transport_error", f"the local MIS answered HTTP {reply.status}"
        return base

    def _check(self, base: Exchange, schema: str, requirement: str, outcome: str, message: str) -> Exchange:
        errors = sorted(self.validators[schema].iter_errors(base.answer), key=lambda e: list(e.path))
        if not errors:
            base.outcome, base.message = outcome, message
            return base
        reasons = [_where(e) for e in errors[:20]]
        base.outcome = "violation"
        base.message = f"the {schema} answer breaks the contract: " + "; ".join(reasons)
        base.violations = [{"requirement": requirement, "message": f"{schema}: {r}"} for r in reasons]
        return base


def _aliases(pairs: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    to_deployment = {}
    for pair in pairs:
        contract_name, _, deployed = pair.partition("=")
        if contract_name.strip() and deployed.strip():
            to_deployment[contract_name.strip()] = deployed.strip()
    return {v: k for k, v in to_deployment.items()}, to_deployment


def _rename(value: Any, names: dict[str, str]) -> Any:
    """Rename object keys at every depth (field aliases of a deployment)."""
    if not names:
        return value
    if isinstance(value, dict):
        return {names.get(k, k): _rename(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    return value


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _where(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.path)
    if error.validator == "required":
        missing = [f for f in error.validator_value if isinstance(error.instance, dict) and f not in error.instance]
        return f"missing required field {'.'.join(filter(None, [path, ','.join(missing)]))}"
    return f"{path or '(root)'}: {error.message}"
