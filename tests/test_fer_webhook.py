"""FER-CB-1/2: webhook registration with the reachability probe and every failure mode of «Альтернативный поток 5а»."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import SEED_OID, Fer
from tests.mis_stub import mis_stub


@pytest.mark.req("FER-CB-1", "FER-CB-2")
def test_register_after_a_200_probe_then_read_update_and_delete(fer: Fer) -> None:
    with mis_stub() as mis:
        answer = fer.http.post(f"{fer.url}/api/callback", json={"address": mis.url})
        assert answer.status_code == 200 and answer.json() == {"address": mis.url}
        assert mis.received == [("GET", "/booking/book", None)]
        assert fer.get("/api/callback").json() == {"address": mis.url}
        probe = fer.admin("GET", "/journal", params={"operation": "mis.booking.probe"}).json()["events"][0]
        assert probe["direction"] == "outbound" and probe["response"]["status"] == 200 and probe["outcome"] == "ok"

        with mis_stub() as other:
            updated = fer.get("/api/callback", address=other.url)  # the seed's «Обновление вебхука» via GET
            assert updated.json() == {"address": other.url} and other.received
        assert fer.get("/api/callback").json() == {"address": other.url}
        assert fer.http.delete(f"{fer.url}/api/callback").json() == {"address": other.url}
        assert fer.get("/api/callback").status_code == 404
        assert fer.admin("GET", "/state").json()["webhooks"] == []


@pytest.mark.req("FER-CB-1")
def test_one_webhook_per_mo_plus_one_per_subdivision(fer: Fer) -> None:
    depart = SEED_OID + ".0.163227"
    with mis_stub() as main, mis_stub() as branch:
        fer.http.post(f"{fer.url}/api/callback", json={"address": main.url}).raise_for_status()
        fer.http.post(f"{fer.url}/api/callback", json={"address": branch.url, "depart_oid": depart}).raise_for_status()
        fer.http.post(f"{fer.url}/api/callback", json={"address": main.url}).raise_for_status()  # replaces, one per MO
        assert fer.get("/api/callback").json() == {"address": main.url}
        assert fer.get("/api/callback", depart_oid=depart).json() == {"address": branch.url}
        assert fer.gateway.webhooks.resolve(SEED_OID, depart) == branch.url
        assert fer.gateway.webhooks.resolve(SEED_OID, SEED_OID + ".0.1") == main.url
        assert len(fer.admin("GET", "/state").json()["webhooks"]) == 2


@pytest.mark.req("FER-CB-1")
@pytest.mark.parametrize("status", [400, 404, 500, 502, 204])
def test_probe_answering_anything_but_200_is_a_registration_error(fer: Fer, status: int) -> None:
    with mis_stub() as mis:
        mis.answer("GET /booking/book", status=status)
        answer = fer.http.post(f"{fer.url}/api/callback", json={"address": mis.url})
    body = answer.json()
    assert answer.status_code == 400 and body["error"]["errorCode"] == "R-400"
    assert body["error"]["errorMessage"].startswith("Ошибка регистрации ответного сервиса.")
    assert f"ответил {status}" in body["error"]["errorMessage"]
    assert fer.get("/api/callback").status_code == 404


@pytest.mark.req("FER-CB-1")
def test_probe_timeout_and_refused_connection(fer_factory) -> None:
    fer = fer_factory(**{"fer.webhook_probe_timeout_seconds": 0.5})
    fer.login()
    with mis_stub() as mis:
        mis.answer("GET /booking/book", delay=2)
        late = fer.http.post(f"{fer.url}/api/callback", json={"address": mis.url}).json()
    assert "не ответил за 0.5 с" in late["error"]["errorMessage"]
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused = fer.http.post(f"{fer.url}/api/callback", json={"address": f"http://127.0.0.1:{port}"}).json()
    assert "не удалось установить соединение" in refused["error"]["errorMessage"]
    outcomes = [
        e["outcome"] for e in fer.admin("GET", "/journal", params={"operation": "mis.booking.probe"}).json()["events"]
    ]
    assert outcomes == ["timeout", "refused"]


@pytest.mark.req("FER-CB-2")
def test_check_reports_reachability_without_registering(fer: Fer) -> None:
    with mis_stub() as mis:
        ok = fer.get("/api/callback/check", address=mis.url).json()
        mis.answer("GET /booking/book", status=502)
        bad = fer.get("/api/callback/check", address=mis.url).json()
    assert ok["available"] is True and ok["status"] == 200
    assert bad["available"] is False and bad["status"] == 502 and "ответил 502" in bad["message"]
    assert fer.get("/api/callback").status_code == 404


@pytest.mark.req("FER-CB-1", "X-5")
@pytest.mark.parametrize("body", [{"address": "not a url"}, {"address": 5}, {"url": "http://x"}, {"address": "ftp://x/y"},
                                  {"address": "http://127.0.0.1:1", "depart_oid": 7}])  # fmt: skip
def test_bad_registrations_are_refused_before_any_probe(fer: Fer, body: dict) -> None:
    answer = fer.http.post(f"{fer.url}/api/callback", json=body)
    assert answer.status_code == 400 and answer.json()["isSuccess"] is False
    assert fer.admin("GET", "/journal", params={"operation": "mis.booking.probe"}).json()["count"] == 0
