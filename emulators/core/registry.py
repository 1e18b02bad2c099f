"""The one registry of counterparts: each package registers an EmulatorSpec; core imports none of them.

A counterpart package `emulators/<name>/` has a `plugin.py` that calls `register(EmulatorSpec(...))`;
`emulators.catalog` (above the counterparts) imports the built-in plugins. The spec names the settings
section (`[name]` in TOML, `MEDSTAND_NAME_*` in the environment, `--name-port` on the command line), the
contract formats the counterpart adds, its builder and its own command-line tools.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulators.core.errors import ConfigError
from emulators.core.formats import Format, register_format

if TYPE_CHECKING:
    from emulators.core.config import Settings
    from emulators.core.emulator import Emulator


@dataclass(frozen=True)
class UpOption:
    """An extra `medstand up` option that sets one key of the counterpart's section."""

    flag: str  # "--kafka-bootstrap"
    setting: str  # "kafka_bootstrap" (in the counterpart's section)
    help: str
    type: Callable[[str], Any] = str


@dataclass(frozen=True)
class EmulatorSpec:
    """What a counterpart package tells the core about itself."""

    name: str  # "netrika": TOML [netrika], MEDSTAND_NETRIKA_*, --netrika-port
    title: str  # one line: what it stands in for
    settings: type  # a frozen dataclass with at least `port: int` (its default is the fixed port)
    build: Callable[[Settings], Emulator]
    formats: Mapping[str, Format] = field(default_factory=dict)  # contract `format:` names it adds
    add_commands: Callable[[argparse._SubParsersAction], None] | None = None  # `medstand <name> …` tools
    up_options: tuple[UpOption, ...] = ()  # extra `medstand up` flags, e.g. --kafka-bootstrap

    @property
    def default_port(self) -> int:
        return int(_field_default(self.settings, "port"))


_REGISTRY: dict[str, EmulatorSpec] = {}


def register(spec: EmulatorSpec) -> EmulatorSpec:
    """Add a counterpart; registering the same name twice with another spec is a programming error."""
    if not spec.name.isidentifier() or spec.name != spec.name.lower():
        raise ValueError(f"emulator name {spec.name!r} must be a lower-case identifier")
    if not dataclasses.is_dataclass(spec.settings) or "port" not in {f.name for f in dataclasses.fields(spec.settings)}:
        raise ValueError(f"{spec.name}: settings must be a dataclass with a `port` field")
    existing = _REGISTRY.get(spec.name)
    if existing is not None and existing is not spec:
        raise ValueError(f"emulator {spec.name!r} is already registered")
    for name, check in spec.formats.items():
        register_format(name, check)
    _REGISTRY[spec.name] = spec
    return spec


def registered() -> dict[str, EmulatorSpec]:
    """Every registered counterpart, by name, in port order."""
    return dict(sorted(_REGISTRY.items(), key=lambda item: (item[1].default_port, item[0])))


def spec(name: str) -> EmulatorSpec:
    """The spec of `name`; ConfigError naming the known ones otherwise."""
    found = _REGISTRY.get(name)
    if found is None:
        known = ", ".join(registered()) or "none"
        raise ConfigError(f"unknown emulator {name!r}; registered: {known}")
    return found


def _field_default(cls: type, name: str) -> Any:
    for item in dataclasses.fields(cls):
        if item.name == name:
            if item.default is not dataclasses.MISSING:
                return item.default
            if item.default_factory is not dataclasses.MISSING:
                return item.default_factory()
    raise ValueError(f"{cls.__name__}.{name} has no default")
