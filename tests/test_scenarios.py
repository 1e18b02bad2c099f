"""The certification scenario passes against the reference MIS and fails against a broken one."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from scenarios.fer_booking import Gateway, Step, followed_up, main, run
from tests.conftest import SEED_OID, Fer
from tests.mis_stub import mis_stub
from tests.test_sample_mis import sample  # noqa: F401 - fixture


@pytest.mark.req("FER-BK-1", "FER-BK-4", "FER-CN-1", "FER-REF-3")
def test_fer_booking_scenario_passes_against_the_sample_mis(fer: Fer, sample) -> None:  # noqa: F811
    # another MO's slot, earlier than any of the MIS's and with no webhook: the scenario must not book it
    from tests import fer_data as data

    other = "1.2.643.5.1.13.13.12.2.86.4444"
    fer.add_mo_credentials(other)
    fer.login(other, "pw")
    mo = data.mo(parent_id=other)
    room = data.room(mo["id"])
    soon = (dt.datetime.now() + dt.timedelta(minutes=5)).isoformat(timespec="seconds")
    for entity, record in (("mo", mo), ("resource", room), ("slot", data.slot(mo["id"], room["id"], soon))):
        fer.post(entity, [record]).raise_for_status()
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
    assert report.steps[1].name.startswith("booking succeeds") and report.steps[1].passed is False
    assert report.steps[1].requirements == ("FER-BK-1", "FER-BK-2", "FER-BK-3")


@pytest.mark.req("FER-REF-3")
def test_a_booking_the_gateway_does_not_know_is_a_failed_follow_up(fer: Fer) -> None:
    assert followed_up(Gateway(fer.url), "00000000-0000-0000-0000-000000000000") is False


def test_multi_line_seed_texts_stay_indented_and_requirements_are_data() -> None:
    step = Step("refused", ("FER-BK-4",), False, "business_error: code 11\nВыбранное время занято\nВыберите другое")
    lines = step.line().splitlines()
    assert lines[0] == "FAIL  refused (FER-BK-4) — business_error: code 11"
    assert lines[1:] == ["      Выбранное время занято", "      Выберите другое"]


def test_a_gateway_that_is_not_running_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["--gateway", f"http://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot reach the FER gateway" in err and "Traceback" not in err
