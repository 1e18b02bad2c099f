"""ШЭП's entry in the registry: `[shep]` settings and its builder (the MIS-side client is `sample-mis shep-search`)."""

from __future__ import annotations

from typing import Any

from emulators.core.config import Settings
from emulators.core.registry import EmulatorSpec, register
from emulators.shep.settings import ShepSettings


def build(settings: Settings) -> Any:
    from emulators.shep.service import Shep

    return Shep(settings)


SPEC = register(
    EmulatorSpec(
        name="shep",
        title="ШЭП SyncChannel v10: «Медицинские отводы» (medical exemption search)",
        settings=ShepSettings,
        build=build,
    )
)
