"""Fixtures: a real FER gateway on an ephemeral port, a real HTTP client, golden files from the seed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from emulators.core.config import load_settings
from emulators.fer.settings import SEED_EXAMPLE_PASSWORD, SEED_EXAMPLE_USERNAME
from emulators.core.testing import Running, start_in_thread
from emulators.fer.gateway import Gateway

GOLDEN = Path(__file__).parent / "golden"
SEED_OID = SEED_EXAMPLE_USERNAME


def golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def golden_text(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


@dataclass
class Fer:
    """A running gateway and a session for one MO."""

    gateway: Gateway
    served: Running
    http: requests.Session

    @property
    def url(self) -> str:
        return self.served.url

    def token(self, username: str = SEED_OID, password: str = SEED_EXAMPLE_PASSWORD) -> str:
        answer = self.http.post(f"{self.url}/auth.svc", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["Result"]["Value"])

    def login(self, username: str = SEED_OID, password: str = SEED_EXAMPLE_PASSWORD) -> None:
        self.http.headers["Authorization"] = f"bearer {self.token(username, password)}"

    def add_mo_credentials(self, oid: str, password: str = "pw") -> None:
        answer = requests.post(f"{self.url}/__admin/fer/credentials", json={"username": oid, "password": password})
        assert answer.status_code == 201

    def post(self, entity: str, records: list[dict[str, Any]], **kw: Any) -> requests.Response:
        return self.http.post(f"{self.url}/api/{entity}", json={"data": records}, **kw)

    def get(self, path: str, **params: str) -> requests.Response:
        return self.http.get(f"{self.url}{path}", params=params)

    def delete(self, entity: str, key: str) -> requests.Response:
        return self.http.delete(f"{self.url}/api/{entity}", params={"id": key})

    def admin(self, method: str, path: str, **kw: Any) -> requests.Response:
        return requests.request(method, f"{self.url}/__admin{path}", timeout=30, **kw)


def start_fer(data_dir: Path, **overrides: Any) -> Fer:
    settings = load_settings(overrides={"data_dir": str(data_dir), "fer.port": 0, **overrides})
    gateway = Gateway(settings)
    served = start_in_thread(gateway)
    return Fer(gateway, served, requests.Session())


def stop_fer(fer: Fer) -> None:
    fer.served.stop()
    fer.gateway.close()
    fer.gateway.db.close()


@pytest.fixture
def fer(tmp_path: Path) -> Iterator[Fer]:
    running = start_fer(tmp_path)
    running.login()
    yield running
    stop_fer(running)


@pytest.fixture
def fer_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Fer] = []

    def make(**overrides: Any) -> Fer:
        running = start_fer(tmp_path, **overrides)
        started.append(running)
        return running

    yield make
    for running in started:
        if running.served._thread.is_alive():
            stop_fer(running)
