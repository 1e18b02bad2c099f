"""A compiled yes/no validator for the JSON Schema subset our contracts use.

Why not only fastjsonschema: its generated code builds key sets and raises exceptions inside oneOf,
about 30 µs per slot record on the reference machine, a third of the whole budget of the FER ingest
target. This compiler turns a schema into one boolean Python expression (~3 µs per slot). It answers
only valid/invalid; when a record is invalid, jsonschema lists every error (see contract.compile_detailed),
so both always judge by the same contract. Schemas using keywords outside the subset fall back to
fastjsonschema.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any

from emulators.core.contract import compile_fast
from emulators.core.formats import FIXED_LENGTH

SUPPORTED = {
    "$schema", "description", "title", "default", "type", "required", "properties", "maxLength", "minLength",
    "enum", "pattern", "format", "oneOf", "anyOf", "allOf", "not", "if", "then", "else", "minimum", "maximum",
    "items",
}  # fmt: skip
_TYPES = {
    "string": "type({v}) is str",
    "integer": "(type({v}) is int or (type({v}) is float and {v}.is_integer()))",
    "number": "type({v}) in (int, float)",
    "boolean": "type({v}) is bool",
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "null": "{v} is None",
}


class _Compiler:
    def __init__(self, formats: dict[str, Callable[[str], bool]]) -> None:
        self.formats = formats
        self.env: dict[str, Any] = {"_M": object()}
        self.counter = 0

    def name(self, prefix: str, value: Any) -> str:
        self.counter += 1
        key = f"{prefix}{self.counter}"
        self.env[key] = value
        return key

    def temp(self) -> str:
        self.counter += 1
        return f"_t{self.counter}"

    def expr(self, schema: Any, v: str) -> str:
        if schema is True or schema == {}:
            return "True"
        if schema is False:
            return "False"
        unknown = set(schema) - SUPPORTED
        if unknown:
            raise _Unsupported(unknown)
        parts: list[str] = []
        kinds = schema.get("type")
        if kinds is not None:
            kinds = [kinds] if isinstance(kinds, str) else kinds
            parts.append("(" + " or ".join(_TYPES[k].format(v=v) for k in kinds) + ")")
        is_str = kinds == ["string"]
        guard = "" if is_str else f"type({v}) is not str or "
        if "maxLength" in schema:
            parts.append(f"({guard}len({v}) <= {int(schema['maxLength'])})")
        if "minLength" in schema:
            parts.append(f"({guard}len({v}) >= {int(schema['minLength'])})")
        if "pattern" in schema:
            pattern = self.name("P", re.compile(schema["pattern"]))
            parts.append(f"({guard}{pattern}.search({v}) is not None)")
        if "format" in schema and schema["format"] in self.formats:
            check = self.name("F", functools.lru_cache(maxsize=65536)(self.formats[schema["format"]]))
            parts.append(f"({guard}{check}({v}))")
        if "enum" in schema:
            parts.append(self._enum(schema["enum"], v))
        for keyword, op in (("minimum", ">="), ("maximum", "<=")):
            if keyword in schema:
                parts.append(f"(type({v}) not in (int, float) or {v} {op} {schema[keyword]!r})")
        parts.extend(self._object(schema, v))
        parts.extend(self._combinators(schema, v))
        if "items" in schema:
            item = self.temp()
            parts.append(f"(type({v}) is not list or all({self.expr(schema['items'], item)} for {item} in {v}))")
        return "(" + " and ".join(parts) + ")" if parts else "True"

    def _enum(self, values: list[Any], v: str) -> str:
        if all(isinstance(x, str) for x in values):
            return f"(type({v}) is str and {v} in {self.name('E', frozenset(values))})"
        allowed = self.name("E", tuple(values))
        # keep JSON Schema's equality: true is not 1
        return f"any(type({v}) is type(_x) and {v} == _x for _x in {allowed})"

    def _object(self, schema: dict[str, Any], v: str) -> list[str]:
        parts = []
        if "required" in schema:
            parts.append(f"(type({v}) is not dict or {self.name('R', frozenset(schema['required']))} <= {v}.keys())")
        props = schema.get("properties")
        if props:
            checks = []
            for prop, sub in props.items():
                sub_expr_var = self.temp()
                inner = self.expr(sub, sub_expr_var)
                if inner != "True":
                    checks.append(f"(({sub_expr_var} := {v}.get({prop!r}, _M)) is _M or {inner})")
            if checks:
                parts.append(f"(type({v}) is not dict or (" + " and ".join(checks) + "))")
        return parts

    def _combinators(self, schema: dict[str, Any], v: str) -> list[str]:
        parts = []
        for sub in schema.get("allOf", []):
            parts.append(self.expr(sub, v))
        if "anyOf" in schema:
            parts.append("(" + " or ".join(self.expr(s, v) for s in schema["anyOf"]) + ")")
        if "oneOf" in schema:
            parts.append("((" + ") + (".join(self.expr(s, v) for s in schema["oneOf"]) + ") == 1)")
        if "not" in schema:
            parts.append(f"(not {self.expr(schema['not'], v)})")
        if "if" in schema:
            then = self.expr(schema.get("then", True), v)
            otherwise = self.expr(schema.get("else", True), v)
            parts.append(f"({then} if {self.expr(schema['if'], v)} else {otherwise})")
        return parts


class _Unsupported(Exception):
    pass


def compile_check(schema: dict[str, Any], formats: dict[str, Callable[[str], bool]]) -> Callable[[Any], bool]:
    """A function telling whether a value is valid against `schema` (True/False, never raises)."""
    compiler = _Compiler(formats)
    try:
        body = compiler.expr(schema, "v")
    except _Unsupported:
        fast = compile_fast(schema, formats)
        return lambda value: _fast_ok(fast, value)
    source = f"def check(v):\n    return {body}\n"
    namespace = dict(compiler.env)
    exec(compile(source, "<medstand-validator>", "exec"), namespace)
    check: Callable[[Any], bool] = namespace["check"]
    return check


def _fast_ok(fast: Callable[[Any], Any], value: Any) -> bool:
    try:
        fast(value)
    except Exception:
        return False
    return True


ColumnCheck = Callable[[list[str]], bool]
_SIMPLE_STRING = {"type", "maxLength", "minLength", "enum", "pattern", "format", "description", "title", "default"}
_OBJECT_LEVEL = {"allOf", "anyOf", "oneOf", "not", "if", "then", "else"}


def compile_batch_check(
    schema: dict[str, Any],
    formats: dict[str, Callable[[str], bool]],
    column_formats: Mapping[str, ColumnCheck],
) -> Callable[[list[Any]], bool] | None:
    """A check of a whole batch of records, column by column, for object schemas without combinators.

    Returns None when the schema needs per-record evaluation (allOf, if/then …). The answer is True only
    when every record is valid; on False the caller falls back to per-record checking for the details.
    Built from the same schema as `compile_check`, so both judge alike (tests compare them).
    """
    if schema.get("type") != "object" or _OBJECT_LEVEL & set(schema):
        return None
    required = frozenset(schema.get("required", ()))
    properties = schema.get("properties", {})
    if not required <= set(properties):
        return None
    columns = [
        (name, name in required, _column(sub, formats, column_formats))
        for name, sub in properties.items()
        if sub not in ({}, True) or name in required
    ]

    def check(records: list[Any]) -> bool:
        if not records:
            return True
        try:
            if set(map(type, records)) != {dict}:
                return False
            for name, is_required, check_column in columns:
                values = list(map(dict.get, records, itertools.repeat(name), itertools.repeat(_MISSING)))
                if is_required:
                    if _MISSING in values:
                        return False
                else:
                    values = [v for v in values if v is not _MISSING]
                if values and not check_column(values):
                    return False
        except (TypeError, ValueError):
            return False
        return True

    return check


_MISSING = object()


def _column(
    sub: Any, formats: dict[str, Callable[[str], bool]], column_formats: Mapping[str, ColumnCheck]
) -> ColumnCheck:
    if sub in ({}, True):
        return lambda values: True
    if set(sub) <= _SIMPLE_STRING and sub.get("type") == "string":
        return _string_column(sub, formats, column_formats)
    single = compile_check(sub, formats)

    def distinct_values(values: list[Any]) -> bool:
        try:
            # (type, value) pairs: True and 1 are equal in a set but not in JSON Schema
            return all(single(value) for _, value in set(zip(map(type, values), values)))
        except TypeError:  # unhashable (lists, objects): one by one
            return all(map(single, values))

    return distinct_values


def _string_column(
    sub: dict[str, Any], formats: dict[str, Callable[[str], bool]], column_formats: Mapping[str, ColumnCheck]
) -> ColumnCheck:
    steps: list[ColumnCheck] = []
    implied = FIXED_LENGTH.get(sub.get("format", ""), None)
    if "maxLength" in sub and not (implied is not None and implied <= sub["maxLength"]):
        limit = int(sub["maxLength"])
        steps.append(lambda values: max(map(len, values)) <= limit)
    if "minLength" in sub:
        low = int(sub["minLength"])
        steps.append(lambda values: min(map(len, values)) >= low)
    if "enum" in sub:
        allowed = frozenset(sub["enum"])
        steps.append(lambda values: set(values) <= allowed)
    if "pattern" in sub:
        search = re.compile(sub["pattern"]).search
        steps.append(lambda values: all(map(search, values)))
    if "format" in sub and sub["format"] in formats:
        name = sub["format"]
        if name in column_formats:
            steps.append(column_formats[name])
        else:
            single = formats[name]
            steps.append(lambda values: all(map(single, values)))

    def check(values: list[Any]) -> bool:
        distinct = list(set(values))  # TypeError on an unhashable value: the caller answers "invalid"
        "\0".join(distinct)  # TypeError unless every value is a string
        return all(step(distinct) for step in steps)

    return check
