"""Certification scenario: the MIS's callback service for Netrika's delivery module (NET-1, NET-2, NET-5, NET-7).

    python -m scenarios.netrika_callbacks --netrika http://127.0.0.1:2200 --mis http://mis:3200/back/

The scenario registers the MIS's address as a site (unless `--site` names one registered already), sends every
message type through the emulator's admin API and checks, step by step, that the MIS acknowledged each one on its
first POST with the same MessageId and Status Success; then a re-sent message (the `duplicate` fault: the MIS must
acknowledge it again), the seed's table spelling of VimisResult, and a poisoned body (the MIS must stay up).
Exit code 0 when every step passes. It changes the emulator's policy for its own run and puts it back.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import requests

TYPES = ("CDAStatus", "SEMDStatus", "REMDStatus", "MseResult", "MseResultData", "VimisResult")


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


class Netrika:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        answer = requests.request(method, f"{self.url}/__admin{path}", timeout=60, **kw)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json()

    def settled(self, delivery_id: int, within: float) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            shown = dict(self.admin("GET", f"/netrika/messages/{delivery_id}"))
            if shown["state"] in ("delivered", "dead") or time.monotonic() > deadline:
                return shown
            time.sleep(0.1)


def first_post_acknowledged(shown: dict[str, Any]) -> tuple[bool, str]:
    log = shown.get("attempt_log", [])
    if shown["state"] != "delivered":
        outcomes = ", ".join(str(a["outcome"]) for a in log) or "no attempt yet"
        return False, f"{shown['state']} after {shown['attempts']} POST(s): {outcomes}; {shown['last_error']}"
    ack = shown.get("ack") or {}
    if shown["attempts"] != 1:
        return False, f"acknowledged only on POST {shown['attempts']} ({', '.join(a['outcome'] for a in log)})"
    if ack.get("Status") != "Success":
        return False, f"acknowledged with Status {ack.get('Status')}: {ack.get('Message')}"
    return True, f"ack «{ack.get('Message')}»"


def run(netrika: Netrika, mis: str | None, site: str | None, within: float) -> Report:
    report = Report()
    if site is None:
        site = "certification"
        existing = {s["site"]: s for s in netrika.admin("GET", "/netrika/sites")["sites"]}
        if site in existing:
            netrika.admin("DELETE", f"/netrika/sites/{site}")
        netrika.admin("POST", "/netrika/sites", json={"site": site, "base_url": mis})
    for message_type in TYPES:
        sent = netrika.admin("POST", "/netrika/send", json={"message_type": message_type, "site": site})
        ok, detail = first_post_acknowledged(netrika.settled(sent["id"], within))
        report.check(f"{message_type}: acknowledged on the first POST with its MessageId", ok, detail)
    netrika.admin("POST", "/faults", json={"kind": "duplicate", "operation": "SEMDStatus", "times": 1})
    sent = netrika.admin("POST", "/netrika/send", json={"message_type": "SEMDStatus", "site": site})
    first, again = netrika.settled(sent["id"], within), netrika.settled(sent["duplicate_of"], within)
    report.check("a re-sent message (same MessageId) is acknowledged again",
                 first["state"] == again["state"] == "delivered", f"{first['state']} / {again['state']}")  # fmt: skip
    sent = netrika.admin("POST", "/netrika/send", json={"message_type": "VimisResult", "site": site,
                                                          "spelling": "table"})  # fmt: skip
    ok, detail = first_post_acknowledged(netrika.settled(sent["id"], within))
    report.check("VimisResult with the seed table's IdSourse/StatusСode (NET-7) is acknowledged", ok, detail)
    netrika.admin("POST", "/faults", json={"kind": "poison", "operation": "CDAStatus", "times": 1})
    netrika.admin("POST", "/netrika/send", json={"message_type": "CDAStatus", "site": site})
    sent = netrika.admin("POST", "/netrika/send", json={"message_type": "SEMDStatus", "site": site})
    ok, detail = first_post_acknowledged(netrika.settled(sent["id"], within))
    report.check("after an unparseable message the MIS still acknowledges the next one", ok, detail)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netrika", default="http://127.0.0.1:2200", help="the emulator (default %(default)s)")
    parser.add_argument("--mis", help="the MIS's callback base, e.g. http://mis:3200/back/")
    parser.add_argument("--site", help="a site already registered with the MIS's address (instead of --mis)")
    parser.add_argument("--within", type=float, default=15.0, help="seconds to wait for each message (default 15)")
    args = parser.parse_args(argv)
    if (args.mis is None) == (args.site is None):
        parser.error("give --mis or --site")
    netrika = Netrika(args.netrika)
    try:
        saved = netrika.admin("GET", "/netrika/policy")
        # one try each: a first POST that is not acknowledged is the finding; no re-send should hide it
        netrika.admin("PUT", "/netrika/policy", json={"max_resends": 0})
        try:
            report = run(netrika, args.mis, args.site, args.within)
        finally:
            netrika.admin("PUT", "/netrika/policy", json=saved)
    except (requests.ConnectionError, RuntimeError) as exc:
        print(f"cannot run the scenario: {exc}", file=sys.stderr)
        return 2
    print(f"{sum(ok for _, ok, _ in report.steps)}/{len(report.steps)} steps passed")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
