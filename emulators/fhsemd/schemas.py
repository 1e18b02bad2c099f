"""The message schemas of contracts/fhsemd (X-1): a fast yes/no (fastjsonschema), details from jsonschema."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import fastjsonschema
import jsonschema
from referencing import Registry, Resource

from emulators.core.contract import contracts_dir

NAMES = ("header", "body", "envelope")


@cache
def _documents() -> dict[str, dict[str, Any]]:
    folder = contracts_dir() / "fhsemd"
    return {name: json.loads((folder / f"{name}.schema.json").read_text(encoding="utf-8")) for name in NAMES}


@cache
def _registry() -> Registry:
    pairs = [(f"{name}.schema.json", Resource.from_contents(doc)) for name, doc in _documents().items()]
    pairs += [(doc["$id"], Resource.from_contents(doc)) for doc in _documents().values()]
    return Registry().with_resources(pairs)


@cache
def _fast(name: str) -> Callable[[Any], Any]:
    documents = _documents()
    handlers = {"https": lambda uri: documents[uri.rsplit("/", 1)[-1].removesuffix(".schema.json")]}
    return fastjsonschema.compile(documents[name], handlers=handlers)


def problems(name: str, value: Any) -> list[str]:
    """Why `value` breaks the `name` schema (empty: it does not)."""
    try:
        _fast(name)(value)
        return []
    except fastjsonschema.JsonSchemaException:
        validator = jsonschema.Draft7Validator(_documents()[name], registry=_registry())
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(value)]
