"""Contract binding: load an OpenAPI 3.0 file, list its operations, compile its schemas into validators.

OpenAPI 3.0 schemas are a dialect of JSON Schema; `to_json_schema` turns them into draft-07 (nullable,
discriminator → if/then, $ref inlined) so that one source feeds two validators: fastjsonschema for
the fast yes/no on every record, jsonschema for the full list of errors when a record fails.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import yaml

from emulators.core.errors import ConfigError

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head")
_DROPPED_KEYWORDS = {
    "example",
    "examples",
    "discriminator",
    "xml",
    "externalDocs",
    "readOnly",
    "writeOnly",
    "deprecated",
    "nullable",
}


def contracts_dir() -> Path:
    """Where the contract files live: $MEDSTAND_CONTRACTS, else the package's `contracts/` (in a source tree a
    symlink to the top-level contracts/, in a wheel a copy of it)."""
    configured = os.environ.get("MEDSTAND_CONTRACTS")
    path = Path(configured) if configured else Path(__file__).resolve().parents[1] / "contracts"
    if not path.is_dir():
        raise ConfigError(f"contracts folder not found at {path}; set MEDSTAND_CONTRACTS to the repo's contracts/")
    return path


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    admin: bool
    planned: bool = False


class Contract:
    """One OpenAPI document and what the emulator needs from it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            self.document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot load contract {path}: {exc}") from exc
        self.components: dict[str, Any] = self.document.get("components", {}).get("schemas", {})

    @cached_property
    def operations(self) -> list[Operation]:
        found = []
        for path, item in self.document.get("paths", {}).items():
            for method in HTTP_METHODS:
                spec = item.get(method)
                if spec is None:
                    continue
                if "operationId" not in spec:
                    raise ConfigError(f"{self.path}: {method.upper()} {path} has no operationId")
                found.append(
                    Operation(
                        method.upper(),
                        path,
                        spec["operationId"],
                        spec.get("summary", ""),
                        bool(spec.get("x-medstand-admin", False)),
                        bool(spec.get("x-medstand-planned", False)),
                    )
                )
        return found

    def schema(self, name: str) -> dict[str, Any]:
        """The named component as a self-contained draft-07 JSON Schema."""
        if name not in self.components:
            raise ConfigError(f"{self.path}: no schema components/schemas/{name}")
        converted = to_json_schema(self.components[name], self.components)
        converted["$schema"] = "http://json-schema.org/draft-07/schema#"
        return converted

    def raw_schema(self, name: str) -> dict[str, Any]:
        return self.components[name]


def to_json_schema(node: Any, components: dict[str, Any], depth: int = 0) -> Any:
    """Convert an OpenAPI 3.0 schema object into draft-07 JSON Schema."""
    if depth > 50:
        raise ConfigError("schema nesting too deep (recursive $ref?)")
    if isinstance(node, list):
        return [to_json_schema(item, components, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return to_json_schema(components[name], components, depth + 1)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYWORDS or key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub, components, depth + 1) for name, sub in value.items()}
        elif key in {"items", "not", "additionalProperties", "allOf", "anyOf", "oneOf"}:
            out[key] = to_json_schema(value, components, depth + 1)
        else:
            out[key] = copy.deepcopy(value)
    if node.get("nullable"):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    discriminator = node.get("discriminator")
    if discriminator and "oneOf" in node:
        out.pop("oneOf")
        prop = discriminator["propertyName"]
        branches = [
            {
                "if": {"properties": {prop: {"enum": [value]}}, "required": [prop]},
                "then": to_json_schema({"$ref": ref}, components, depth + 1),
            }
            for value, ref in discriminator["mapping"].items()
        ]
        out["allOf"] = [*out.get("allOf", []), *branches]
    return out


FormatCheck = Callable[[str], bool]


def compile_fast(schema: dict[str, Any], formats: dict[str, FormatCheck]) -> Callable[[Any], Any]:
    """A fastjsonschema validator: raises fastjsonschema.JsonSchemaException at the first error."""
    return fastjsonschema.compile(schema, formats=formats, use_default=False)


def compile_detailed(schema: dict[str, Any], formats: dict[str, FormatCheck]) -> jsonschema.Draft7Validator:
    """A jsonschema validator that lists every error; same formats as the fast one."""
    checker = jsonschema.FormatChecker(formats=())
    for name, check in formats.items():
        # formats apply to strings only (as in fastjsonschema); the type keyword reports the rest
        checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
    return jsonschema.Draft7Validator(schema, format_checker=checker)
