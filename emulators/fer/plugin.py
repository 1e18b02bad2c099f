"""FER's entry in the registry: `[fer]` settings, its formats, its builder and `medstand fer …` tools."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from emulators.core.config import Settings
from emulators.core.registry import EmulatorSpec, register
from emulators.fer.formats import FER_FORMATS
from emulators.fer.settings import FerSettings


def build(settings: Settings) -> Any:
    from emulators.fer.gateway import Gateway

    return Gateway(settings)


def add_commands(commands: argparse._SubParsersAction) -> None:
    from emulators.core.cliutil import add_common

    fer = commands.add_parser("fer", help="FER gateway tools").add_subparsers(dest="fer_command", required=True)
    seed = fer.add_parser("seed", help="generate a realistic region into the showcase (data dir, or --url)")
    add_common(seed)
    seed.add_argument("--mo", type=int, default=50, help="number of subdivisions (default 50)")
    seed.add_argument("--days", type=int, default=14, help="days of slots (default 14)")
    seed.add_argument("--seed", type=int, default=1, help="random seed: same seed, same region (default 1)")
    seed.add_argument("--start", type=dt.date.fromisoformat, help="first day, YYYY-MM-DD (default today)")
    seed.add_argument("--url", help="load through a running gateway's admin API instead, e.g. http://127.0.0.1:2100")
    seed.set_defaults(func=_seed)


def _seed(args: argparse.Namespace) -> int:
    from emulators.core.cliutil import settings_from

    start = args.start or dt.date.today()
    result = _seed_through(args.url, args, start) if args.url else _seed_offline(settings_from(args), args, start)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _seed_through(url: str, args: argparse.Namespace, start: dt.date) -> Any:
    import requests

    from emulators.core.cliutil import unreachable
    from emulators.core.errors import UsageError

    body = {"mo": args.mo, "days": args.days, "seed": args.seed, "start": start.isoformat()}
    try:
        answer = requests.post(url.rstrip("/") + "/__admin/fer/seed", json=body, timeout=600)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise unreachable("FER gateway", url) from exc
    except requests.RequestException as exc:  # a malformed URL and the like
        raise UsageError(f"cannot call {url}: {exc}") from exc
    if answer.status_code != 201:
        raise UsageError(f"{url} refused the seed: HTTP {answer.status_code} {answer.text[:300]}")
    return answer.json()


def _seed_offline(settings: Settings, args: argparse.Namespace, start: dt.date) -> Any:
    from emulators.core.storage import sqlite_path
    from emulators.fer.gateway import Gateway
    from emulators.fer.lock import offline
    from emulators.fer.seeding import load_region

    hint = "seed through it instead: medstand fer seed --url http://HOST:PORT"
    with offline(sqlite_path(settings.resolved_database_url), hint):
        gateway = Gateway(settings)
        try:
            return load_region(gateway.services, args.seed, args.mo, args.days, start)
        finally:
            gateway.close()
            gateway.db.close()


SPEC = register(
    EmulatorSpec(
        name="fer",
        title="ФЭР 2.0 gateway + «Витрина данных»",
        settings=FerSettings,
        build=build,
        formats=FER_FORMATS,
        add_commands=add_commands,
    )
)
