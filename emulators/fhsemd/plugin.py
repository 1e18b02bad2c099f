"""ФХ СЭМД's entry in the registry: `[fhsemd]` settings and its builder."""

from __future__ import annotations

from typing import Any

from emulators.core.config import Settings
from emulators.core.registry import EmulatorSpec, UpOption, register
from emulators.fhsemd.settings import FhsemdSettings


def build(settings: Settings) -> Any:
    from emulators.fhsemd.emulator import FhSemd

    return FhSemd(settings)


SPEC = register(
    EmulatorSpec(
        name="fhsemd",
        title="ФХ СЭМД registration results over Kafka",
        settings=FhsemdSettings,
        build=build,
        up_options=(
            UpOption("--kafka-bootstrap", "kafka_bootstrap",
                     "host:port of an existing Kafka cluster (default: start the embedded broker on 9092)"),
        ),
    )
)
