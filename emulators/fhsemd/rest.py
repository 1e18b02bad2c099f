"""SEMD-4: a result POSTed to the MIS's `POST /api/v1/internal/semd/registration-result` instead of Kafka,
through the durable delivery engine (core.delivery): committed before the admin API answers, re-sent by the
policy, every attempt journaled. The MIS's `{status, errors}` answer is checked against mis-rest.openapi.yaml."""

from __future__ import annotations

from typing import Any

import jsonschema
import orjson

from emulators.core.contract import Contract
from emulators.core.delivery import DeliveryEngine, Policy, Verdict
from emulators.core.outbound import Reply
from emulators.core.storage import Database
from emulators.fhsemd.settings import FhsemdSettings

PATH = "/api/v1/internal/semd/registration-result"
OPERATION = "mis.semd.registrationResult"


def rest_engine(db: Database, outbound: Any, settings: FhsemdSettings, contract: Contract) -> DeliveryEngine:
    policy = Policy(max_resends=settings.rest_max_resends, interval_s=settings.rest_interval_seconds,
                    backoff=settings.rest_backoff, timeout_s=settings.rest_deadline_seconds)  # fmt: skip
    engine = DeliveryEngine(db, outbound, name="fhsemd", policy=policy)
    engine.acknowledge_with(OPERATION, answer_check(contract))
    return engine


def answer_check(contract: Contract) -> Any:
    """Judge the MIS's 2xx answer: `{status: success|error, errors: [...]}` is delivered (an `error` is the MIS's
    own decision, journaled with its errors); anything else is a SEMD-4 violation and is re-sent."""
    schema = contract.document["components"]["schemas"]["Answer"]
    resolver_doc = {"components": contract.document["components"], **schema}
    validator = jsonschema.Draft7Validator(resolver_doc)

    def check(reply: Reply, message_id: str) -> Verdict:
        try:
            answer = orjson.loads(reply.body)
        except orjson.JSONDecodeError:
            return _violation("the MIS's answer is not JSON")
        problems = [e.message for e in validator.iter_errors(answer)]
        if problems:
            return _violation("the MIS's answer is not {status, errors}: " + "; ".join(problems[:3]))
        outcome = "ok" if answer["status"] == "success" else "mis_error"
        notes = tuple(f"{e.get('code')}: {e.get('message')}" for e in answer.get("errors") or ())
        return Verdict(True, outcome, notes=notes, ack=answer)

    return check


def _violation(message: str) -> Verdict:
    return Verdict(False, "violation", message, violations=({"requirement": "SEMD-4", "message": message},))


def delivery_url(base: str) -> str:
    return base.rstrip("/") + PATH
