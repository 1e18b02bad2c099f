"""A running LMIS central API and reference local MISes on ephemeral ports, for the tests/test_lmis*.py files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from emulators.core.config import load_settings
from emulators.core.testing import Running, start_in_thread
from emulators.lmis.central import Central
from emulators.sample_mis.lmis import LocalMis, RunningLocalMis, run_in_thread

CLINIC_A = "1.2.643.5.1.13.13.12.2.50.1001"
CLINIC_B = "1.2.643.5.1.13.13.12.2.50.1002"


@dataclass
class Stand:
    """The central API and the local MISes started for one test."""

    central: Central
    served: Running
    locals: list[RunningLocalMis] = field(default_factory=list)
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return self.served.url

    def admin(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.http.request(method, f"{self.url}/__admin{path}", timeout=60, **kw)

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.http.request(method, f"{self.url}/api/v1{path}", timeout=30, **kw)

    def local(self, clinic_id: str = CLINIC_A, name: str = "ГБУЗ «Городская поликлиника № 1»", port: int = 0,
              publish: bool = True, **options: Any) -> RunningLocalMis:  # fmt: skip
        """A reference local MIS that registered itself and uploaded its patients."""
        options.setdefault("days", 2)
        options.setdefault("patients_count", 4)
        mis = LocalMis(self.url, clinic_id, name, **options)
        running = run_in_thread(mis, port=port, publish=publish)
        self.locals.append(running)
        return running

    def pull(self, clinic_id: str | None = None) -> dict[str, Any]:
        answer = self.admin("POST", "/lmis/pull", json={"clinic_id": clinic_id} if clinic_id else {})
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["clinics"])

    def flow(self, action: str, **spec: Any) -> dict[str, Any]:
        answer = self.admin("POST", f"/lmis/{action}", json=spec)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def journal(self, operation: str) -> list[dict[str, Any]]:
        return list(self.admin("GET", "/journal", params={"operation": operation}).json()["events"])

    def stop(self) -> None:
        for running in self.locals:
            running.stop()
        self.served.stop()


def start_stand(data_dir: Path, **overrides: Any) -> Stand:
    settings = load_settings(overrides={"data_dir": str(data_dir), "lmis.port": 0,
                                        "lmis.pull_interval_seconds": 3600, **overrides})  # fmt: skip
    central = Central(settings)
    return Stand(central, start_in_thread(central))


def running_stand(tmp_path: Path) -> Iterator[Stand]:
    """The body of each test file's `stand` fixture: a central API with no clinics yet."""
    running = start_stand(tmp_path)
    yield running
    running.stop()


def first_patient(local: RunningLocalMis) -> tuple[str, dict[str, Any]]:
    """(the index's patient_id, the card) of the local MIS's first patient."""
    patient_id, mkab_id = next(iter(local.mis.master.items()))
    return patient_id, local.mis.cards[mkab_id]
