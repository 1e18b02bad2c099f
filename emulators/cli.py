"""`medstand` command line: run the emulators, generate demo data."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from emulators import __version__
from emulators.core import logs
from emulators.core.config import SEED_EXAMPLE_PASSWORD, SEED_EXAMPLE_USERNAME, Settings, load_settings
from emulators.core.errors import ConfigError
from emulators.core.gcpolicy import BetweenRequests
from emulators.core.runner import Listener, serve_all

log = logging.getLogger("medstand")

# name -> (default port, what it stands in for); ports are fixed so a MIS is configured once
EMULATORS: dict[str, tuple[int, str]] = {
    "fer": (2100, "ФЭР 2.0 gateway + «Витрина данных»"),
    "netrika": (2200, "Netrika callback delivery module"),
    "fhsemd": (2300, "ФХ СЭМД registration results (Kafka 9092)"),
    "shep": (2400, "ШЭП medical exemptions, SOAP SyncChannel v10"),
    "lmis": (2500, "central scheduling API (МИП)"),
}


def _build_fer(settings: Settings) -> Any:
    from emulators.fer.gateway import Gateway

    return Gateway(settings)


BUILDERS: dict[str, Callable[[Settings], Any]] = {"fer": _build_fer}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logs.setup(getattr(args, "verbose", False))
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"medstand: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medstand", description="Stand-ins for the systems a MIS integrates with.")
    parser.add_argument("--version", action="version", version=f"medstand {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser(
        "up",
        help="run emulators in the foreground",
        description="Run the emulators (all that exist by default) until Ctrl-C / SIGTERM. Default ports: "
        + ", ".join(f"{name} {port}" for name, (port, _) in EMULATORS.items())
        + ". Settings come from --config (TOML), then MEDSTAND_* environment variables, then these options.",
    )
    up.add_argument("names", nargs="*", metavar="NAME", help=f"emulators to run: {', '.join(EMULATORS)}")
    _common(up)
    up.add_argument("--host", help="interface to listen on (default 127.0.0.1; 0.0.0.0 in containers)")
    for name, (port, _) in EMULATORS.items():
        up.add_argument(f"--{name}-port", type=int, help=f"port of the {name} emulator (default {port})")
    up.add_argument("--no-journal", action="store_true", help="switch the exchange journal off (load runs)")
    up.add_argument("--quiet", action="store_true", help="no per-exchange log lines")
    up.set_defaults(func=_up)

    fer = commands.add_parser("fer", help="FER gateway tools").add_subparsers(dest="fer_command", required=True)
    seed = fer.add_parser("seed", help="generate a realistic region into the showcase (data dir, or --url)")
    _common(seed)
    seed.add_argument("--mo", type=int, default=50, help="number of subdivisions (default 50)")
    seed.add_argument("--days", type=int, default=14, help="days of slots (default 14)")
    seed.add_argument("--seed", type=int, default=1, help="random seed: same seed, same region (default 1)")
    seed.add_argument("--start", type=dt.date.fromisoformat, help="first day, YYYY-MM-DD (default today)")
    seed.add_argument("--url", help="load through a running gateway's admin API instead, e.g. http://127.0.0.1:2100")
    seed.set_defaults(func=_fer_seed)

    sample = commands.add_parser(
        "sample-mis",
        help="run the reference MIS against a FER gateway",
        description="The reference MIS: uploads its showcase to the gateway with auth, registers its webhook, answers "
        "book/cancel from real state, then uploads the book and the slot as the seed demands.",
    )
    sample.add_argument("--gateway", default="http://127.0.0.1:2100", help="FER gateway URL (default %(default)s)")
    sample.add_argument("--username", default=SEED_EXAMPLE_USERNAME, help="MO OID (default: the seed's example MO)")
    sample.add_argument("--password", default=SEED_EXAMPLE_PASSWORD)
    sample.add_argument("--host", default="127.0.0.1")
    sample.add_argument("--port", type=int, default=3000)
    sample.add_argument("--public-url", help="address the gateway calls (default http://HOST:PORT)")
    sample.add_argument("--seed", type=int, default=7, help="random seed of its schedule")
    sample.add_argument("--answer-delay-ms", type=float, default=0.0, help="wait this long before answering a booking")
    sample.add_argument("-v", "--verbose", action="store_true")
    sample.set_defaults(func=_sample_mis)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML settings file")
    parser.add_argument("--data-dir", help="where state is kept (default .medstand)")
    parser.add_argument("--database-url", help="sqlite:///PATH (default: SQLite file under the data dir)")
    parser.add_argument("-v", "--verbose", action="store_true")


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "data_dir": args.data_dir,
        "database_url": args.database_url,
        "host": getattr(args, "host", None),
        "fer.port": getattr(args, "fer_port", None),
    }
    if getattr(args, "no_journal", False):
        overrides["journal.enabled"] = False
    if getattr(args, "quiet", False):
        overrides["log_exchanges"] = False
    return load_settings(args.config, overrides)


def _up(args: argparse.Namespace) -> int:
    settings = _settings(args)
    names = args.names or [name for name in EMULATORS if name in BUILDERS]
    unknown = [n for n in names if n not in EMULATORS]
    if unknown:
        raise ConfigError(f"unknown emulator(s) {', '.join(unknown)}; known: {', '.join(EMULATORS)}")
    missing = [n for n in names if n not in BUILDERS]
    if missing:
        raise ConfigError(f"not built yet in medstand {__version__}: {', '.join(missing)}")
    listeners = []
    for name in names:
        emulator = BUILDERS[name](settings)
        if settings.log_exchanges:
            emulator.journal.subscribe(logs.log_exchange)
        port = getattr(settings, name).port
        listeners.append(Listener(name, emulator.app, settings.host, port))
    log.info("medstand %s: %s; state in %s", __version__, ", ".join(names), settings.resolved_database_url)
    # The replayed state is long-lived: keep it out of the collector's scans; and collect between requests,
    # not inside them (see core/gcpolicy.py).
    gc.collect()
    gc.freeze()
    policy = BetweenRequests()
    for listener in listeners:
        listener.app.after_response = policy.collect_if_due
    profile_to = os.environ.get("MEDSTAND_PROFILE")  # developers: cProfile the whole run into this file
    if profile_to:
        import cProfile

        cProfile.runctx("asyncio.run(serve_all(listeners, on_idle=policy.on_idle))", globals(), locals(), profile_to)
    else:
        asyncio.run(serve_all(listeners, on_idle=policy.on_idle))
    log.info("stopped")
    return 0


def _fer_seed(args: argparse.Namespace) -> int:
    start = args.start or dt.date.today()
    if args.url:
        import requests

        body = {"mo": args.mo, "days": args.days, "seed": args.seed, "start": start.isoformat()}
        answer = requests.post(args.url.rstrip("/") + "/__admin/fer/seed", json=body, timeout=600)
        answer.raise_for_status()
        result = answer.json()
    else:
        from emulators.fer.admin import load_region
        from emulators.fer.gateway import Gateway

        gateway = Gateway(_settings(args))
        try:
            result = load_region(gateway, args.seed, args.mo, args.days, start)
        finally:
            gateway.close()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _sample_mis(args: argparse.Namespace) -> int:
    from emulators.sample_mis.mis import SampleMis
    from emulators.sample_mis.run import serve

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per upload is noise here
    public = args.public_url or f"http://{args.host}:{args.port}"
    mis = SampleMis(args.gateway, args.username, args.password, public, seed=args.seed)
    mis.answer_delay_ms = args.answer_delay_ms
    asyncio.run(serve(mis, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
