"""`medstand` command line: run the registered emulators, their tools and the reference MIS."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from typing import Any

from emulators import __version__, catalog
from emulators.core import logs, registry
from emulators.core.cliutil import add_common, settings_from
from emulators.core.config import Settings
from emulators.core.errors import ConfigError, UsageError
from emulators.core.gcpolicy import BetweenRequests
from emulators.core.runner import run_emulators
from emulators.fer.settings import SEED_EXAMPLE_PASSWORD, SEED_EXAMPLE_USERNAME
from emulators.sample_mis import parts as sample_parts

log = logging.getLogger("medstand")


def main(argv: list[str] | None = None) -> int:
    catalog.load()
    parser = _parser()
    args = parser.parse_args(argv)
    logs.setup(getattr(args, "verbose", False))
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"medstand: configuration error: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"medstand: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    specs = registry.registered()
    parser = argparse.ArgumentParser(prog="medstand", description="Stand-ins for the systems a MIS integrates with.")
    parser.add_argument("--version", action="version", version=f"medstand {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser(
        "up",
        help="run emulators in the foreground",
        description="Run the emulators (all registered by default) until Ctrl-C / SIGTERM. Default ports: "
        + ", ".join(f"{name} {spec.default_port}" for name, spec in specs.items())
        + ". Settings come from --config (TOML), then MEDSTAND_* environment variables, then these options.",
    )
    up.add_argument("names", nargs="*", metavar="NAME", help=f"emulators to run: {', '.join(specs)}")
    add_common(up)
    up.add_argument("--host", help="interface to listen on (default 127.0.0.1; 0.0.0.0 in containers)")
    for name, spec in specs.items():
        help_text = f"port of the {spec.title} emulator (default {spec.default_port})"
        up.add_argument(f"--{name}-port", type=int, help=help_text)
        for option in spec.up_options:
            up.add_argument(option.flag, type=option.type, dest=f"{name}__{option.setting}", help=option.help,
                            metavar=option.setting.upper())  # fmt: skip
    up.add_argument("--no-journal", action="store_true", help="switch the exchange journal off (load runs)")
    up.add_argument("--quiet", action="store_true", help="no per-exchange log lines")
    up.set_defaults(func=_up)

    for spec in specs.values():
        if spec.add_commands is not None:
            spec.add_commands(commands)

    sample = commands.add_parser(
        "sample-mis",
        help="run the reference MIS (FER side by default; see its subcommands for the others)",
        description="The reference MIS. Without a subcommand: the FER side — uploads its showcase to the gateway "
        "with auth, registers its webhook, answers book/cancel from real state, then uploads the book and the slot "
        "as the seed demands. Subcommands run the other counterparts' sides.",
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
    sample_commands = sample.add_subparsers(dest="sample_command", metavar="PART")
    sample_parts.add_commands(sample_commands)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for name, spec in registry.registered().items():
        overrides[f"{name}.port"] = getattr(args, f"{name}_port", None)
        for option in spec.up_options:
            overrides[f"{name}.{option.setting}"] = getattr(args, f"{name}__{option.setting}", None)
    if getattr(args, "no_journal", False):
        overrides["journal.enabled"] = False
    if getattr(args, "quiet", False):
        overrides["log_exchanges"] = False
    return settings_from(args, **overrides)


def _up(args: argparse.Namespace) -> int:
    specs = registry.registered()
    names = args.names or list(specs)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise ConfigError(f"unknown emulator(s) {', '.join(unknown)}; registered: {', '.join(specs)}")
    settings = _settings(args)
    emulators = []
    try:
        for name in names:
            emulator = specs[name].build(settings)
            emulators.append(emulator)
            if settings.log_exchanges:
                emulator.journal.subscribe(logs.log_exchange)
    except BaseException:
        for emulator in emulators:
            emulator.close()
        raise
    log.info("medstand %s: %s; state in %s", __version__, ", ".join(names), settings.resolved_database_url)
    # The replayed state is long-lived: keep it out of the collector's scans; and collect between requests,
    # not inside them (see core/gcpolicy.py).
    gc.collect()
    gc.freeze()
    policy = BetweenRequests()
    for emulator in emulators:
        for listener in emulator.listeners:
            if hasattr(listener.app, "after_response"):
                listener.app.after_response = policy.collect_if_due
    try:
        _run(emulators, policy)
    except OSError as exc:
        raise UsageError(f"cannot start: {exc.strerror or exc} (is another medstand already running?)") from exc
    log.info("stopped")
    return 0


def _run(emulators: list[Any], policy: BetweenRequests) -> None:
    profile_to = os.environ.get("MEDSTAND_PROFILE")  # developers: cProfile the whole run into this file
    if profile_to:
        import cProfile

        run = "asyncio.run(run_emulators(emulators, on_idle=policy.on_idle))"
        cProfile.runctx(run, globals(), locals(), profile_to)
    else:
        asyncio.run(run_emulators(emulators, on_idle=policy.on_idle))


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
