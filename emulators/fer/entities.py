"""The eight showcase entities of Приложение 1, bound to their schemas in contracts/fer/gateway.openapi.yaml."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema

from emulators.core.contract import Contract, compile_detailed
from emulators.core.formats import COLUMN_FORMATS, FORMATS
from emulators.fer import formats as _fer_formats  # noqa: F401  (registers fer-visit-time, fer-timestamp)
from emulators.core.validation import compile_batch_check, compile_check
from emulators.fer import catalogue as texts

# Upload order of the seed's «Порядок загрузки данных»; also the order parents are checked in.
ENTITY_SCHEMAS = {
    "mo": "Mo",
    "resource": "Resource",
    "service": "Service",
    "slot": "Slot",
    "book": "Book",
    "referral": "Referral",
    "unaccessable_period": "UnaccessablePeriod",
    "profilecode_resource": "ProfilecodeResource",
}

RecordError = tuple[str, str]  # (errorCode, message without the record prefix)


@dataclass(frozen=True)
class Entity:
    """One showcase table: its key, its fields and its two validators."""

    name: str
    key: str
    fields: frozenset[str]
    service_fields: frozenset[str]
    raw_schema: dict[str, Any]
    is_valid: Callable[[Any], bool]
    detailed: jsonschema.Draft7Validator
    batch_is_valid: Callable[[list[Any]], bool] | None = None
    required_count: int = 0

    def check(self, record: Any) -> list[RecordError]:
        """FLK errors of one record: [] when it is valid (compiled fast path), else every error found."""
        if self.is_valid(record):
            return []
        return self.explain(record)

    def explain(self, record: Any) -> list[RecordError]:
        if not isinstance(record, dict):
            return [(texts.NOT_AN_OBJECT.code or "", texts.NOT_AN_OBJECT.template)]
        found: list[RecordError] = []
        for error in self.detailed.iter_errors(record):
            for item in _translate(error, record, self.raw_schema):
                if item not in found:
                    found.append(item)
        return found


def is_snils_digits(value: str) -> bool:
    """СНИЛС as the seed asks for it: string(11) of digits (the checksum is medstand's reconstruction)."""
    return len(value) == 11 and value.isascii() and value.isdigit()


def load_entities(contract: Contract, snils_checksum: bool = True) -> dict[str, Entity]:
    """The eight tables; `snils_checksum` False (fer.snils_checksum) checks СНИЛС as 11 digits only (FER-FLK-2)."""
    formats = FORMATS if snils_checksum else {**FORMATS, "snils": is_snils_digits}
    entities = {}
    for name, schema_name in ENTITY_SCHEMAS.items():
        raw = contract.raw_schema(schema_name)
        schema = contract.schema(schema_name)
        entities[name] = Entity(
            name=name,
            key=raw["x-medstand-key"],
            fields=frozenset(raw["properties"]),
            service_fields=frozenset(f for f, s in raw["properties"].items() if "IgnoredUpdateTs" in str(s)),
            raw_schema=raw,
            is_valid=compile_check(schema, formats),
            detailed=compile_detailed(schema, formats),
            batch_is_valid=compile_batch_check(schema, formats, COLUMN_FORMATS),
            required_count=len(raw.get("required", ())),
        )
    return entities


def _translate(error: jsonschema.ValidationError, record: dict[str, Any], raw: dict[str, Any]) -> list[RecordError]:
    kind = error.validator
    field = ".".join(str(p) for p in error.path)
    conditional = "then" in error.schema_path
    if kind == "required":
        text = texts.REQUIRED_FOR_TYPE if conditional else texts.REQUIRED
        missing = [f for f in error.validator_value if f not in error.instance]
        return [_e(text, field=f, type=record.get("type")) for f in missing]
    if kind == "not":
        forbidden = error.validator_value.get("required", ["?"])[0]
        return [_e(texts.FORBIDDEN_FOR_TYPE, field=forbidden, type=record.get("type"))]
    if kind == "type":
        expected = error.validator_value
        expected = expected[0] if isinstance(expected, list) else expected
        return [_e(texts.WRONG_TYPE, field=field, expected=expected)]
    if kind == "maxLength":
        return [_e(texts.TOO_LONG, field=field, limit=error.validator_value)]
    if kind == "minLength":
        return [_e(texts.EMPTY, field=field)]
    if kind == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value if v is not None)
        return [_e(texts.BAD_ENUM, field=field, value=error.instance, allowed=allowed)]
    if kind == "pattern":
        listed = raw.get("properties", {}).get(field, {}).get("x-medstand-enum")
        if listed:
            return [_e(texts.BAD_ENUM, field=field, value=error.instance, allowed=", ".join(listed))]
        return [_e(texts.BAD_PATTERN, field=field)]
    if kind == "format":
        return [_e(texts.BAD_FORMAT.get(error.validator_value, texts.BAD_PATTERN), field=field)]
    if kind == "oneOf":
        return [_e(texts.BAD_DURATION, field=field)]
    if kind in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        return [_e(texts.OUT_OF_RANGE, field=field)]
    return [(texts.BAD_PATTERN.code or "", f"Поле [{field}]: {error.message}")]


def _e(text: texts.Text, **values: object) -> RecordError:
    return (text.code or "", text.format(**values))
