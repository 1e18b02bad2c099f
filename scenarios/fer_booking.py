"""Certification scenario: the MIS's booking service behind the FER 2.0 gateway (FER-CB-*, FER-BK-*, FER-CN-*).

    python -m scenarios.fer_booking --gateway http://127.0.0.1:2100 --oid 1.2.643.5.1.13.13.12.2.86.8902

Preconditions: the MIS has uploaded its showcase and registered its webhook. The scenario then plays ЕПГУ
through the gateway's admin API, on the MIS's own slots only, and checks step by step what the MIS answered
and what it uploaded after. Exit code 0 when every step passes, 1 when one fails, 2 when the gateway is not
reachable.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests


@dataclass(frozen=True)
class Step:
    name: str
    requirements: tuple[str, ...]
    passed: bool
    detail: str = ""

    def line(self) -> str:
        """PASS/FAIL, the step and its requirement IDs; a multi-line detail (a seed text) stays indented."""
        head = f"{'PASS' if self.passed else 'FAIL'}  {self.name} ({', '.join(self.requirements)})"
        if not self.detail:
            return head
        first, *rest = self.detail.splitlines()
        return "\n".join([f"{head} — {first}", *(f"      {line}" for line in rest)])


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)

    def check(self, name: str, requirements: tuple[str, ...], passed: bool, detail: str = "") -> bool:
        step = Step(name, requirements, bool(passed), detail)
        self.steps.append(step)
        print(step.line(), flush=True)
        return step.passed

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.passed for step in self.steps)


class GatewayUnreachable(Exception):
    pass


class Gateway:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        try:
            answer = requests.request(method, f"{self.url}/__admin{path}", timeout=60, **kw)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise GatewayUnreachable(f"cannot reach the FER gateway at {self.url}: is it running?") from exc
        answer.raise_for_status()
        return answer.json()

    def booking(self, ext_id: str) -> dict[str, Any] | None:
        """The gateway's record of this ЕПГУ booking, or None when it has none."""
        found = [b for b in self.admin("GET", "/state")["bookings"] if b["book_ext_id"] == ext_id]
        return found[-1] if found else None


def wait(condition: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def followed_up(gateway: Gateway, ext_id: str) -> bool:
    """Every follow-up upload seen; a booking the gateway does not know is a failure, never a pass."""
    booking = gateway.booking(ext_id)
    return booking is not None and booking["awaiting"] == []


def _seen(gateway: Gateway, ext_id: str) -> str:
    booking = gateway.booking(ext_id)
    return "the gateway has no such booking" if booking is None else f"seconds until: {booking['seconds_until']}"


def _said(answer: dict[str, Any]) -> str:
    return "\n".join(filter(None, [f"{answer['outcome']}: {answer['message']}", answer.get("user_message")]))


def run(gateway: Gateway, oid: str, followup: float) -> Report:
    report = Report()
    hooks = [h for h in gateway.admin("GET", "/state")["webhooks"] if h["oid"] == oid]
    if not report.check("webhook registered", ("FER-CB-1",), bool(hooks), hooks[0]["address"] if hooks else "none"):
        return report
    booked = gateway.admin("POST", "/fer/epgu/book", json={"mo_oid": oid})  # only this MIS's own slots
    ok = booked["outcome"] == "success"
    report.check("booking succeeds within 10 s", ("FER-BK-1", "FER-BK-2", "FER-BK-3"), ok, _said(booked))
    if not ok:
        return report
    ext_id, slot_id = booked["book_ext_id"], booked["slot_id"]
    uploaded = wait(lambda: followed_up(gateway, ext_id), followup)
    report.check("book uploaded with id = book_ext_id and slot re-sent RECORDED", ("FER-REF-3", "FER-FRESH-1"),
                 uploaded, _seen(gateway, ext_id))  # fmt: skip
    # the gateway would refuse a booked slot itself (FER-BK-6): forced through, to hear what the MIS says
    again = gateway.admin("POST", "/fer/epgu/book", json={"slot_id": slot_id, "force": True})
    report.check("the same slot again is refused with 11", ("FER-BK-4",), again.get("status_code") == 11, _said(again))
    young = gateway.admin("POST", "/fer/epgu/book", json={"mo_oid": oid, "patient": {"age_fits": False}})
    report.check("a patient of the wrong age is refused with 14", ("FER-BK-4",), young.get("status_code") == 14,
                 _said(young))  # fmt: skip
    cancelled = gateway.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": ext_id})
    report.check("cancel succeeds", ("FER-CN-1",), cancelled["outcome"] == "success", _said(cancelled))
    freed = wait(lambda: followed_up(gateway, ext_id), followup)
    report.check("slot re-sent AVAILABLE after the cancel", ("FER-CN-2", "FER-FRESH-1"), freed, _seen(gateway, ext_id))
    twice = gateway.admin("POST", "/fer/epgu/cancel", json={"book_ext_id": ext_id, "force": True})
    report.check("a second cancel answers 1 «уже отменена»", ("FER-CN-1",), twice.get("status_code") == 1, _said(twice))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:2100")
    parser.add_argument("--oid", default="1.2.643.5.1.13.13.12.2.86.8902", help="the MIS's MO OID")
    parser.add_argument("--followup", type=float, default=30.0, help="seconds the MIS has to upload (default 30)")
    args = parser.parse_args(argv)
    try:
        report = run(Gateway(args.gateway), args.oid, args.followup)
    except GatewayUnreachable as exc:
        print(f"fer_booking: {exc}", file=sys.stderr)
        return 2
    except requests.HTTPError as exc:
        print(f"fer_booking: the gateway refused an admin call: {exc}", file=sys.stderr)
        return 2
    print(f"{sum(s.passed for s in report.steps)} passed, {sum(not s.passed for s in report.steps)} failed")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
