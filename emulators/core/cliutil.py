"""Pieces every command-line tool shares: the common options, settings from them, one-line user errors."""

from __future__ import annotations

import argparse
from typing import Any

from emulators.core.config import Settings, load_settings
from emulators.core.errors import UsageError


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML settings file")
    parser.add_argument("--data-dir", help="where state is kept (default .medstand)")
    parser.add_argument("--database-url", help="sqlite:///PATH (default: SQLite file under the data dir)")
    parser.add_argument("-v", "--verbose", action="store_true")


def settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from --config, MEDSTAND_* and the common options (plus dotted `overrides`)."""
    merged: dict[str, Any] = {
        "data_dir": getattr(args, "data_dir", None),
        "database_url": getattr(args, "database_url", None),
        "host": getattr(args, "host", None),
        **overrides,
    }
    return load_settings(getattr(args, "config", None), merged)


def unreachable(what: str, url: str) -> UsageError:
    """The one-line error for a peer that does not answer (instead of a traceback)."""
    return UsageError(f"cannot reach the {what} at {url}: is it running? (start it with `medstand up`)")
