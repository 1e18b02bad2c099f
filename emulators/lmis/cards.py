"""Checks of the patient cards (МКАБ) a local MIS uploads, against central.openapi.yaml's PatientCard."""

from __future__ import annotations

from typing import Any

import jsonschema

from emulators.core.contract import Contract, compile_detailed
from emulators.core.formats import FORMATS
from emulators.core.validation import compile_check
from emulators.lmis import catalogue as texts


class CardCheck:
    """Splits an upload into valid cards and per-card errors (the envelope's `errors`)."""

    def __init__(self, contract: Contract) -> None:
        schema = contract.schema("PatientCard")
        self.is_valid = compile_check(schema, FORMATS)
        self.detailed = compile_detailed(schema, FORMATS)

    def split(self, cards: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        good: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        for number, raw in enumerate(cards, 1):
            card = _normalised(raw)
            mkab_id = card.get("mkab_id") if isinstance(card, dict) and isinstance(card.get("mkab_id"), str) else None
            reasons = [] if self.is_valid(card) else _reasons(self.detailed, card)
            if not reasons and mkab_id in seen:
                reasons = ["МКАБ с таким mkab_id уже передана в этом запросе"]
            if reasons:
                text = texts.BAD_CARD.format(mkab_id=mkab_id, reason="; ".join(reasons)) if mkab_id else \
                    texts.BAD_CARD_NO_ID.format(index=number, reason="; ".join(reasons))  # fmt: skip
                errors.append({"id": mkab_id, "errorCode": texts.BAD_CARD.code, "errorMessage": text})
                continue
            assert mkab_id is not None
            seen.add(mkab_id)
            good.append(card)
        return good, errors


def _normalised(card: Any) -> Any:
    """СНИЛС may come as «112-233-445 95»: the index keeps its 11 digits."""
    if isinstance(card, dict) and isinstance(card.get("snils"), str):
        return {**card, "snils": card["snils"].replace("-", "").replace(" ", "")}
    return card


def _reasons(validator: jsonschema.Draft7Validator, card: Any) -> list[str]:
    found = []
    for error in sorted(validator.iter_errors(card), key=lambda e: list(e.path))[:20]:
        path = ".".join(str(p) for p in error.path)
        if error.validator == "required":
            missing = [f for f in error.validator_value if isinstance(error.instance, dict) and f not in error.instance]
            found.append(f"нет обязательного поля {','.join(missing)}")
        elif error.validator == "anyOf" and not path:
            found.append("нужен СНИЛС (snils) или полис ОМС (oms_number)")
        else:
            found.append(f"поле {path or '(корень)'}: {error.message}")
    return found or ["МКАБ не соответствует контракту"]
