"""Logging: one readable line per exchange, from the journal."""

from __future__ import annotations

import logging
import sys

from emulators.core.journal import Event

exchange_log = logging.getLogger("medstand.exchange")


def setup(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-5s %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # client libraries narrate every connection at INFO; their warnings still show (all of it with -v)
    for noisy in QUIET_LIBRARIES:
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


QUIET_LIBRARIES = ("kafka", "confluent_kafka", "zeep", "httpx", "httpcore", "urllib3", "asyncio")


ARROWS = {"inbound": "←", "outbound": "→", "produced": "⇒", "consumed": "⇐"}


def log_exchange(event: Event) -> None:
    """`fer  ← POST /api/slot 422 slot.upsert 3.1 ms · slot: 0 stored, 1 error(s) · 1 violation(s)`."""
    arrow = ARROWS.get(event.direction, "→")
    request, response = event.request, event.response
    status = response.status if response and response.status is not None else event.outcome
    parts = [f"{event.emulator:<4} {arrow} {request.method or ''} {request.target or ''} {status} {event.operation}"]
    if event.latency_ms is not None:
        parts[0] += f" {event.latency_ms:.1f} ms"
    if event.details.get("summary"):
        parts.append(str(event.details["summary"]))
    if event.violations:
        parts.append(f"{len(event.violations)} violation(s): {event.violations[0]['requirement']}")
    for note in event.notes:
        parts.append(f"note: {note}")
    exchange_log.info(" · ".join(parts))
