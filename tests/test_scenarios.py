"""The certification scenario passes against the reference MIS and fails against a broken one."""

from __future__ import annotations

import pytest

from scenarios.fer_booking import Gateway, run
from tests.conftest import SEED_OID, Fer
from tests.mis_stub import mis_stub
from tests.test_sample_mis import sample  # noqa: F401 - fixture


@pytest.mark.req("FER-BK-1", "FER-BK-4", "FER-CN-1", "FER-REF-3")
def test_fer_booking_scenario_passes_against_the_sample_mis(fer: Fer, sample) -> None:  # noqa: F811
    report = run(Gateway(fer.url), SEED_OID, followup=10)
    assert report.passed, report.steps
    assert len(report.steps) == 8


@pytest.mark.req("FER-BK-4")
def test_fer_booking_scenario_fails_a_mis_that_answers_code_99(fer: Fer) -> None:
    from tests import fer_data as data

    mo = data.mo()
    room = data.room(mo["id"])
    fer.post("mo", [mo]).raise_for_status()
    fer.post("resource", [room]).raise_for_status()
    import datetime as dt

    day = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    fer.post("slot", [data.slot(mo["id"], room["id"], f"{day}T09:00:00")]).raise_for_status()
    with mis_stub() as mis:
        fer.http.post(f"{fer.url}/api/callback", json={"address": mis.url}).raise_for_status()
        mis.answer("POST /booking/book", body={"status": {"status_code": 99}})
        report = run(Gateway(fer.url), SEED_OID, followup=1)
    assert not report.passed
    assert report.steps[1][0].startswith("booking succeeds") and report.steps[1][1] is False
