"""LMIS's entry in the registry: `[lmis]` settings and the central API's builder."""

from __future__ import annotations

from typing import Any

from emulators.core.config import Settings
from emulators.core.registry import EmulatorSpec, register
from emulators.lmis.settings import LmisSettings


def build(settings: Settings) -> Any:
    from emulators.lmis.central import Central

    return Central(settings)


SPEC = register(
    EmulatorSpec(
        name="lmis",
        title="central scheduling API (МИП) ↔ local MIS",
        settings=LmisSettings,
        build=build,
    )
)
