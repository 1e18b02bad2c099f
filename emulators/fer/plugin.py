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
    from emulators.core.cliutil import settings_from, unreachable

    start = args.start or dt.date.today()
    if args.url:
        import requests

        body = {"mo": args.mo, "days": args.days, "seed": args.seed, "start": start.isoformat()}
        try:
            answer = requests.post(args.url.rstrip("/") + "/__admin/fer/seed", json=body, timeout=600)
        except requests.ConnectionError as exc:
            raise unreachable("FER gateway", args.url) from exc
        answer.raise_for_status()
        result = answer.json()
    else:
        from emulators.fer.admin import load_region
        from emulators.fer.gateway import Gateway

        gateway = Gateway(settings_from(args))
        try:
            result = load_region(gateway, args.seed, args.mo, args.days, start)
        finally:
            gateway.close()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


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
