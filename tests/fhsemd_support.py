"""ФХ СЭМД test helpers: a real emulator with its real embedded broker, the reference MIS, contract checks."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import requests
from referencing import Registry, Resource

from emulators.core.config import load_settings
from emulators.core.testing import Running, start_in_thread
from emulators.fhsemd.emulator import FhSemd
from emulators.sample_mis.fhsemd import Consumer, SemdMis

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts" / "fhsemd"
GOLDEN = Path(__file__).parent / "golden" / "fhsemd"
CLASSIFIER = ROOT.parent / "shared" / "reference" / "remd-error-codes" / "nsi_1.2.643.5.1.13.13.99.2.305_v3.18.csv"
TOPIC = "semd-registration-results"


@dataclass
class Fh:
    """A running ФХ СЭМД (control API + broker) and a session on its admin API."""

    emulator: FhSemd
    served: Running
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def bootstrap(self) -> str:
        return self.emulator.bootstrap

    def admin(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.http.request(method, f"{self.url}/__admin{path}", timeout=30, **kw)

    def send(self, items: Any) -> list[dict[str, Any]]:
        answer = self.admin("POST", "/fhsemd/results", json=items)
        assert answer.status_code == 201, answer.text
        return list(answer.json()["results"])

    def result(self, message_id: str, refresh: bool = True) -> dict[str, Any]:
        answer = self.admin("GET", f"/fhsemd/results/{message_id}", params={"refresh": "1"} if refresh else {})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def wait_consumed(self, message_id: str, within: float = 20) -> dict[str, Any]:
        return wait_for(lambda: (r := self.result(message_id))["consumed"] and r, within, f"{message_id} consumed")

    def stop(self) -> None:
        self.served.stop()
        self.emulator.db.close()


def start_fh(data_dir: Path, **overrides: Any) -> Fh:
    settings = load_settings(overrides={"data_dir": str(data_dir), "fhsemd.port": 0, "fhsemd.kafka_port": 0,
                                        "fhsemd.consumption_poll_seconds": 0.1, **overrides})  # fmt: skip
    emulator = FhSemd(settings)
    return Fh(emulator, start_in_thread(emulator))


def wait_for(check: Callable[[], Any], within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out after {within} s waiting for {what}")


@dataclass
class Mis:
    """The reference MIS consuming from the broker."""

    state: SemdMis
    consumer: Consumer

    def stop(self) -> None:
        self.consumer.stop()

    def document_status(self, message_id: str) -> str:
        return self.state.documents[message_id].status

    def wait_outcome(self, outcome: str, what: str, within: float = 20) -> None:
        wait_for(lambda: (outcome, what) in self.state.outcomes, within, f"the MIS's {outcome} of {what}")


def start_mis(bootstrap: str, group: str, client: str = "kafka-python") -> Mis:
    state = SemdMis()
    return Mis(state, Consumer(state, bootstrap, group, client).start())


# -- the contract, read independently of the emulator's own loader -------------------------------------------


def _schema(name: str) -> dict[str, Any]:
    return dict(json.loads((CONTRACTS / f"{name}.schema.json").read_text(encoding="utf-8")))


def _validator(name: str) -> jsonschema.Draft7Validator:
    registry = Registry().with_resources(
        (f"{n}.schema.json", Resource.from_contents(_schema(n))) for n in ("header", "body", "envelope")
    )
    return jsonschema.Draft7Validator(_schema(name), registry=registry, format_checker=jsonschema.FormatChecker())


def contract_errors(name: str, value: Any) -> list[str]:
    return [e.message for e in _validator(name).iter_errors(value)]


def record_errors(headers: list[tuple[str, bytes]] | None, value: bytes) -> list[str]:
    """Why a Kafka record breaks the AsyncAPI message (either framing)."""
    if headers:
        header = {name: raw.decode() for name, raw in headers}
        return contract_errors("header", header) + contract_errors("body", json.loads(value))
    return contract_errors("envelope", json.loads(value))


def classifier() -> dict[str, dict[str, str]]:
    with CLASSIFIER.open(encoding="utf-8") as handle:
        return {row["code"]: row for row in csv.DictReader(handle)}


def read_topic(bootstrap: str, count: int, group: str | None = None, within: float = 15) -> list[Any]:
    """`count` records from the start of the topic (a throwaway reader that commits nothing)."""
    from kafka import KafkaConsumer

    reader = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                           enable_auto_commit=False, consumer_timeout_ms=int(within * 1000))  # fmt: skip
    found: list[Any] = []
    deadline = time.monotonic() + within
    try:
        while len(found) < count and time.monotonic() < deadline:
            for records in reader.poll(timeout_ms=200).values():
                found.extend(records)
    finally:
        reader.close()
    return found
