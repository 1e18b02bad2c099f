"""Certification scenario: a local MIS (ЛМИС) behind the LMIS central scheduling API (LMIS-1…4).

    python -m scenarios.lmis_local --central http://127.0.0.1:2500 --clinic 1.2.643.5.1.13.13.12.2.50.1001 \
        --snils 11223344595

Preconditions: the clinic is registered (`POST /__admin/lmis/clinics`) and its local MIS uploaded its patients,
among them the one with `--snils`.
The scenario plays the portal through the central API's admin surface, on one patient of that clinic, and
prints each step PASS/FAIL. Exit code 0 when every step passes, 1 when one fails, 2 when the API is unreachable.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import requests

from scenarios.fer_booking import Report


class CentralUnreachable(Exception):
    pass


def _post(central: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = requests.post(f"{central}/__admin/lmis{path}", json=body, timeout=60)
    except requests.ConnectionError as exc:
        raise CentralUnreachable(central) from exc
    answer.raise_for_status()
    return dict(answer.json())


def run(central: str, clinic_id: str, snils: str) -> Report:
    """Pull, find the patient and the clinic in their list, book, book the same slot again, cancel twice."""
    central, report = central.rstrip("/"), Report()
    pulled = _post(central, "/pull", {"clinic_id": clinic_id})["clinics"][clinic_id]
    fresh = pulled["last_outcome"] == "ok" and pulled["slots"] > 0
    if not report.check("resources and schedule pulled and valid", ("LMIS-2",), fresh,
                        f"{pulled['last_outcome']}: {pulled['last_error'] or ''}"):  # fmt: skip
        return report
    found = requests.get(f"{central}/api/v1/patients", params={"snils": snils}, timeout=30).json()["result"]
    patient_id = found["patients"][0]["patient_id"] if found and found["patients"] else None
    listed = patient_id and requests.get(f"{central}/api/v1/patients/{patient_id}/clinics", timeout=30).json()
    clinics = [c["clinic_id"] for c in (listed or {}).get("result", {}).get("clinics", [])]
    if not report.check("the patient's card (МКАБ) is in the index, listed for this clinic", ("LMIS-1",),
                        clinic_id in clinics, f"clinics: {clinics}"):  # fmt: skip
        return report
    booked = _post(central, "/book", {"patient_id": patient_id, "clinic_id": clinic_id})
    if not report.check("booking answers appointment GUID, slot GUID, ticket number", ("LMIS-3",),
                        booked["outcome"] == "success", booked["message"]):  # fmt: skip
        return report
    again = _post(central, "/book", {"patient_id": patient_id, "clinic_id": clinic_id, "slot_id": booked["slot_id"]})
    report.check("a taken slot is refused with SLOT_TAKEN", ("LMIS-3",),
                 again["outcome"] == "business_error" and again["message"].startswith("SLOT_TAKEN"), again["message"])
    appointment_id = booked["appointment"]["appointment_id"]
    cancelled = _post(central, "/cancel", {"appointment_id": appointment_id})
    report.check("cancel by appointment GUID", ("LMIS-3",), cancelled["outcome"] == "success", cancelled["message"])
    twice = _post(central, "/cancel", {"appointment_id": appointment_id})
    report.check("a second cancel is refused with ALREADY_CANCELLED", ("LMIS-3",),
                 twice["outcome"] == "business_error" and twice["message"].startswith("ALREADY_CANCELLED"),
                 twice["message"])  # fmt: skip
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Certify a local MIS behind the LMIS central scheduling API.")
    parser.add_argument("--central", default="http://127.0.0.1:2500")
    parser.add_argument("--clinic", required=True, help="the clinic's ЛПУ code as registered")
    parser.add_argument("--snils", required=True, help="СНИЛС of a patient the local MIS uploaded")
    args = parser.parse_args(argv)
    try:
        report = run(args.central, args.clinic, args.snils.replace("-", "").replace(" ", ""))
    except CentralUnreachable as exc:
        print(f"cannot reach the LMIS central API at {exc}: is it running? (medstand up lmis)", file=sys.stderr)
        return 2
    print("PASSED" if report.passed else "FAILED")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
