"""What the MIS answered to book/cancel, classified: success, business_error, violation, timeout, transport_error.

Messages are the admin surface's (English); the seed's own descriptions and user-facing texts travel in
`description` and `user_message`, verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import jsonschema
import orjson

from emulators.core.contract import Contract, compile_detailed
from emulators.core.formats import FORMATS
from emulators.core.outbound import Reply
from emulators.core.validation import compile_check
from emulators.fer import formats as _fer_formats  # noqa: F401  (the MIS contract uses FER's formats)

SCHEMAS = ("BookRequest", "BookResponse", "CancelRequest", "CancelResponse")


@dataclass
class Result:
    """The answer of `POST /__admin/fer/epgu/book|cancel`."""

    outcome: str
    message: str
    status_code: int | None = None
    http_status: int | None = None
    book_ext_id: str | None = None
    slot_id: str | None = None
    latency_ms: float | None = None
    description: str | None = None  # the seed's «Описание ошибки» of status_code
    user_message: str | None = None  # the seed's text ЕПГУ shows the user
    violations: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    request: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        # shallow on purpose: dataclasses.asdict deep-copies the request, ~0.7 ms per booking here
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Classifier:
    """Both validators of the MIS contract's schemas, and the rules that turn a Reply into a Result."""

    def __init__(self, contract: Contract, deadline: float) -> None:
        self.deadline = deadline
        self.validators = {name: compile_detailed(contract.schema(name), FORMATS) for name in SCHEMAS}
        self.is_valid = {name: compile_check(contract.schema(name), FORMATS) for name in SCHEMAS}  # fast yes/no

    def own_errors(self, name: str, body: dict[str, Any]) -> list[str]:
        """Where a request medstand built breaks the MIS contract (our bug, never the MIS's)."""
        return [] if self.is_valid[name](body) else [e.message for e in self.validators[name].iter_errors(body)]

    def classify(self, reply: Reply, schema: str, codes: dict[int, tuple[str, str]], requirement: str) -> Result:
        base = Result("timeout", "", http_status=reply.status, latency_ms=reply.latency_ms)
        if reply.failure == "timeout" or (reply.failure is None and reply.latency_ms > self.deadline * 1000):
            late = reply.failure is None
            base.message = (f"the MIS answered after {reply.latency_ms / 1000:.1f} s, later than the allowed "
                            f"{self.deadline:g} s" if late else f"the MIS did not answer within {self.deadline:g} s")  # fmt: skip
            base.violations.append({"requirement": "FER-BK-2", "message": base.message})
            return base
        if reply.failure is not None or reply.status is None:
            base.outcome, base.message = "transport_error", f"connection to the MIS failed: {reply.detail}"
            return base
        if not 200 <= reply.status < 300:
            base.outcome, base.message = "transport_error", f"the MIS answered HTTP {reply.status}"
            return base
        return self._classify_body(base, parse_json(reply.body), schema, codes, requirement)

    def _classify_body(self, base: Result, answer: Any, schema: str, codes: dict[int, tuple[str, str]],
                       requirement: str) -> Result:  # fmt: skip
        status = answer.get("status") if isinstance(answer, dict) else None
        if isinstance(status, dict):
            base.warnings.extend(normalise_status(status))
        code = status.get("status_code") if isinstance(status, dict) else None
        if code is None or type(code) is not int:
            return self._violation(base, schema, answer)
        base.status_code = code
        if code == 0:
            # the full answer structure is required of a success (FER-BK-3); a business error needs only status
            if not self.is_valid[schema](answer):
                return self._violation(base, schema, answer)
            base.outcome, base.message = "success", "status_code 0: done"
        elif code in codes:
            base.outcome, base.message = "business_error", f"the MIS refused with status_code {code}"
            base.description, base.user_message = codes[code]
        else:
            base.outcome = "violation"
            base.message = f"status_code {code!r} is not one of the allowed codes ({', '.join(map(str, codes))})"
            base.violations.append({"requirement": requirement, "message": base.message})
        return base

    def _violation(self, base: Result, schema: str, answer: Any) -> Result:
        errors = sorted(self.validators[schema].iter_errors(answer), key=lambda e: list(e.path))
        reasons = [_where(e) for e in errors] or ["the answer is not a JSON object with status.status_code"]
        base.outcome = "violation"
        base.message = "the MIS's answer breaks the contract: " + "; ".join(reasons)
        requirement = "FER-BK-3" if schema == "BookResponse" else "FER-CN-1"
        base.violations = [{"requirement": requirement, "message": r} for r in reasons]
        return base


def normalise_status(status: dict[str, Any]) -> list[str]:
    """Accept the seed's spellings of status_code: Cyrillic «с» (status_сode) and camelCase (statusCode)."""
    warnings = []
    for spelling in ("status_сode", "statusCode"):
        if spelling in status and "status_code" not in status:
            status["status_code"] = status[spelling]
            if "statusMessage" in status and "status_message" not in status:
                status["status_message"] = status["statusMessage"]
            kind = "with a Cyrillic «с»" if spelling == "status_сode" else "in camelCase"
            warnings.append(f"status key spelled '{spelling}' ({kind}); accepted, 'status_code' expected (FER-CN-1)")
    return warnings


def _where(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.path)
    if error.validator == "required":
        missing = [f for f in error.validator_value if isinstance(error.instance, dict) and f not in error.instance]
        return f"required field {'.'.join(filter(None, [path, ','.join(missing)]))} is missing"
    return f"field {path or '(root)'}: {error.message}"


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
