"""The reference MIS's sides for the other counterparts, each in its own module of this package.

Each module listed in PARTS may define `add_commands(subparsers)`: it adds its `medstand sample-mis <cmd>`
subcommands (each with `set_defaults(func=...)` returning an exit code). A module not written yet is skipped.
"""

from __future__ import annotations

import argparse
import importlib

PARTS = (
    "emulators.sample_mis.netrika",
    "emulators.sample_mis.fhsemd",
    "emulators.sample_mis.shep",
    "emulators.sample_mis.lmis",
)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    for name in PARTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        add = getattr(module, "add_commands", None)
        if add is not None:
            add(subparsers)
