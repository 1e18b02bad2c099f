"""Certification scenario: the MIS's booking service behind the FER 2.0 gateway (FER-CB-*, FER-BK-*, FER-CN-*).

    python -m scenarios.fer_booking --gateway http://127.0.0.1:2100 --oid 1.2.643.5.1.13.13.12.2.86.8902

Preconditions: the MIS has uploaded its showcase and registered its webhook. The scenario then plays ЕПГУ
through the gateway's admin API and checks, step by step, what the MIS answered and what it uploaded after.
Exit code 0 when every step passes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass
class Report:
    steps: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.steps.append((name, passed, detail))
        print(f"{'PASS' if passed else 'FAIL'}  {name}{' — ' + detail if detail else ''}", flush=True)
        return passed

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.steps)


class Gateway:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        answer = requests.request(method, f"{self.url}/__admin{path}", timeout=60, **kw)
        answer.raise_for_status()
        return answer.json()

    def booking(self, ext_id: str) -> dict[str, Any]:
        found = [b for b in self.admin("GET", "/state")["bookings"] if b["book_ext_id"] == ext_id]
        return found[-1] if found else {}


def wait(condition: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def run(gateway: Gateway, oid: str, followup: float) -> Report:
    report = Report()
    state = gateway.admin("GET", "/state")
    hooks = [h for h in state["webhooks"] if h["oid"] == oid]
    if not report.check("webhook registered (FER-CB-1)", bool(hooks), hooks[0]["address"] if hooks else "none"):
        return report
    booked = gateway.admin("POST", "/fer/epgu/book", json={})
    ok = booked["outcome"] == "success"
    report.check("booking succeeds within 10 s (FER-BK-1…3)", ok, f"{booked['outcome']}: {booked['message']}")
    if not ok:
        return report
    ext_id, slot_id = booked["book_ext_id"], booked["slot_id"]
    uploaded = wait(lambda: not gateway.booking(ext_id).get("awaiting"), followup)
    report.check("book uploaded with id = book_ext_id and slot re-sent RECORDED (FER-REF-3, FER-FRESH-1)", uploaded,
                 str(gateway.booking(ext_id).get("seconds_until")))  # fmt: skip
    again = gateway.admin("POST", "/fer/epgu/book", json={"slot_id": slot_id})
    report.check("the same slot again is refused with 11 (FER-BK-4)", again.get("status_code") == 11, again["message"])
    young = gateway.admin("POST", "/fer/epgu/book", json={"patient": {"age_fits": False}})
    report.check("a patient of the wrong age is refused with 14 (FER-BK-4)", young.get("status_code") == 14,
                 f"{young['outcome']}: {young['message']}")  # fmt: skip
    cancelled = gateway.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": ext_id})
    report.check("cancel succeeds (FER-CN-1)", cancelled["outcome"] == "success", cancelled["message"])
    freed = wait(lambda: not gateway.booking(ext_id).get("awaiting"), followup)
    report.check("slot re-sent AVAILABLE after the cancel (FER-CN-2, FER-FRESH-1)", freed,
                 str(gateway.booking(ext_id).get("seconds_until")))  # fmt: skip
    twice = gateway.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": ext_id})
    report.check("a second cancel answers 1 «уже отменена» (FER-CN-1)", twice.get("status_code") == 1, twice["message"])
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:2100")
    parser.add_argument("--oid", default="1.2.643.5.1.13.13.12.2.86.8902", help="the MIS's MO OID")
    parser.add_argument("--followup", type=float, default=30.0, help="seconds the MIS has to upload (default 30)")
    args = parser.parse_args(argv)
    report = run(Gateway(args.gateway), args.oid, args.followup)
    print(f"{sum(ok for _, ok, _ in report.steps)} passed, {sum(not ok for _, ok, _ in report.steps)} failed")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
