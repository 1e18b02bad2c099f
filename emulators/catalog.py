"""The built-in counterparts: importing this module registers each of them with `emulators.core.registry`.

This module sits above the counterparts (core imports none of them). A counterpart that is not
installed or not built yet is simply absent from the registry.
"""

from __future__ import annotations

import importlib

BUILT_IN = ("fer", "netrika", "fhsemd", "shep", "lmis")


def load() -> list[str]:
    """Import every built-in counterpart package that exists; returns the names loaded."""
    loaded = []
    for name in BUILT_IN:
        module = f"emulators.{name}.plugin"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name not in (module, f"emulators.{name}"):
                raise
            continue
        loaded.append(name)
    return loaded


load()
