"""Netrika's entry in the registry: `[netrika]` settings, its formats and its builder."""

from __future__ import annotations

from typing import Any

from emulators.core.config import Settings
from emulators.core.registry import EmulatorSpec, register
from emulators.netrika.formats import NETRIKA_FORMATS
from emulators.netrika.settings import NetrikaSettings


def build(settings: Settings) -> Any:
    from emulators.netrika.emulator import Netrika

    return Netrika(settings)


SPEC = register(
    EmulatorSpec(
        name="netrika",
        title="Netrika callback delivery module (Модуль доставки обратных сообщений)",
        settings=NetrikaSettings,
        build=build,
        formats=NETRIKA_FORMATS,
    )
)
