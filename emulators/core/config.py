"""Settings: one TOML file, MEDSTAND_* environment variables and CLI overrides, validated at start-up."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.core import registry
from emulators.core.errors import ConfigError


@dataclass(frozen=True)
class JournalSettings:
    enabled: bool = True
    max_events: int = 5000
    max_age_seconds: float = 3600.0
    max_body_bytes: int = 8192


@dataclass(frozen=True)
class Settings:
    """Process-wide settings; each registered counterpart's section is reachable as `settings.<name>`."""

    host: str = "127.0.0.1"
    data_dir: str = ".medstand"
    database_url: str = ""
    log_exchanges: bool = True
    journal: JournalSettings = field(default_factory=JournalSettings)
    sections: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: `settings.fer` is the [fer] section
        sections = self.__dict__.get("sections", {})
        if name in sections:
            return sections[name]
        raise AttributeError(f"no setting or registered emulator section {name!r}")

    def section(self, name: str) -> Any:
        """The settings of emulator `name` (its defaults if the section was not loaded)."""
        if name in self.sections:
            return self.sections[name]
        return registry.spec(name).settings()

    @property
    def resolved_database_url(self) -> str:
        """The database URL; SQLite under the data dir unless one is given."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir) / 'medstand.sqlite3'}"


def load_settings(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Load defaults, then the TOML file, then MEDSTAND_* env vars, then explicit dotted overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        raw = _read_toml(Path(path))
    for dotted, value in _env_overrides().items():
        _set_dotted(raw, dotted, value)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(raw, dotted, value)
    sections_raw = {name: raw.pop(name, {}) for name in registry.registered()}
    settings: Settings = _build(Settings, raw, "")
    specs = registry.registered()
    sections = {name: _build(spec.settings, sections_raw[name], f"{name}.") for name, spec in specs.items()}
    return dataclasses.replace(settings, sections=sections)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


# read elsewhere, not settings (MEDSTAND_REFERENCE: the tests' path to shared/reference)
NOT_SETTINGS = {"MEDSTAND_CONFIG", "MEDSTAND_CONTRACTS", "MEDSTAND_PROFILE", "MEDSTAND_REFERENCE"}


def _env_overrides() -> dict[str, str]:
    # MEDSTAND_FER_PORT=2101 -> fer.port; MEDSTAND_HOST -> host
    found: dict[str, str] = {}
    sections = {"journal", *registry.registered()}
    for key, value in os.environ.items():
        if not key.startswith("MEDSTAND_") or key in NOT_SETTINGS:
            continue
        name = key[len("MEDSTAND_") :].lower()
        section, _, rest = name.partition("_")
        found[f"{section}.{rest}" if section in sections and rest else name] = value
    return found


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    head, _, rest = dotted.partition(".")
    if rest:
        _set_dotted(target.setdefault(head, {}), rest, value)
    else:
        target[head] = value


def _build(cls: type, raw: dict[str, Any], where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{where or 'top level'}] must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if f.name != "sections"}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        names = list(known) + (list(registry.registered()) if cls is Settings else [])
        raise ConfigError(f"unknown setting(s) {', '.join(where + k for k in unknown)}; known: {', '.join(names)}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _coerce(hints[name], value, f"{where}{name}")
    instance = cls(**values)
    _validate(instance, where)
    return instance


def _coerce(hint: Any, value: Any, where: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, f"{where}.")
    origin = typing.get_origin(hint)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where} must be a list")
        return tuple(_coerce(item, element, where) for element in value)
    if origin is types.UnionType:
        hint = typing.get_args(hint)[0]
    return _scalar(hint, value, where)


def _scalar(hint: Any, value: Any, where: str) -> Any:
    try:
        if hint is bool:
            if isinstance(value, str):
                if value.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                    raise ValueError(value)
                return value.lower() in {"1", "true", "yes", "on"}
            return bool(value)
        if hint in (int, float, str):
            if hint is not str and isinstance(value, bool):
                raise ValueError(value)
            return hint(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: cannot read {value!r} as {hint.__name__}") from exc
    raise ConfigError(f"{where}: unsupported setting type {hint}")


def _validate(instance: Any, where: str) -> None:
    for item in dataclasses.fields(instance):
        value = getattr(instance, item.name)
        if item.name == "port" and not 0 <= value <= 65535:
            raise ConfigError(f"{where}port must be between 0 and 65535, got {value}")
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"{where}{item.name} must not be negative, got {value}")
