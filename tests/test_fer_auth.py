"""FER-AUTH-*: tokens, bearer checks, expiry, ownership."""

from __future__ import annotations

import pytest
import requests

from tests import fer_data as data
from tests.conftest import SEED_OID, Fer, golden, golden_text


@pytest.mark.req("FER-AUTH-2", "FER-ENV-1")
@pytest.mark.parametrize(
    ("header", "reason"),
    [(None, "отсутствует"), ("Basic abc", "bearer <token>"), ("bearer", "bearer <token>"),
     ("bearer not.a.token", "не распознан"), ("Bearer eyJ.eyJ.sig", "не распознан")],
)  # fmt: skip
def test_api_refuses_missing_malformed_and_unknown_tokens(fer: Fer, header: str | None, reason: str) -> None:
    headers = {"Authorization": header} if header else {}
    answer = requests.get(f"{fer.url}/api/mo", params={"id": "x"}, headers=headers)
    body = answer.json()
    assert answer.status_code == 401 == body["statusCode"]
    assert body["isSuccess"] is False and reason in body["error"]["errorMessage"]
    assert body["error"]["errorMessage"].startswith("Требуется авторизация")


@pytest.mark.req("FER-AUTH-2")
def test_bearer_scheme_is_case_insensitive(fer: Fer) -> None:
    token = fer.token()
    for scheme in ("bearer", "Bearer", "BEARER"):
        answer = requests.get(f"{fer.url}/api/mo", params={"id": "x"}, headers={"Authorization": f"{scheme} {token}"})
        assert answer.status_code == 404


@pytest.mark.req("FER-AUTH-3")
def test_wrong_credentials_answer_401_in_the_auth_shape(fer: Fer) -> None:
    answer = requests.post(f"{fer.url}/auth.svc", json={"username": SEED_OID, "password": "wrong"})
    assert answer.status_code == 401
    assert answer.json() == {
        "Result": None, "IsSuccess": False, "ErrorMessage": "Неверное имя пользователя или пароль", "StatusCode": 401,
    }  # fmt: skip


@pytest.mark.req("FER-AUTH-3")
def test_credentials_added_through_admin_work(fer: Fer) -> None:
    fer.add_mo_credentials("1.2.643.5.1.13.13.12.2.86.9999", "s3cret")
    assert fer.token("1.2.643.5.1.13.13.12.2.86.9999", "s3cret")
    assert "1.2.643.5.1.13.13.12.2.86.9999" in fer.admin("GET", "/fer/credentials").json()["usernames"]


@pytest.mark.req("FER-AUTH-3", "X-5")
@pytest.mark.parametrize("body", [b"{", b"[]", b'{"username": 1, "password": "x"}', b'{"username": "x"}'])
def test_malformed_auth_requests_get_400(fer: Fer, body: bytes) -> None:
    answer = requests.post(f"{fer.url}/auth.svc", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["IsSuccess"] is False and answer.json()["Result"] is None


@pytest.mark.req("FER-AUTH-4")
def test_forced_expiry_makes_the_mis_refresh(fer: Fer) -> None:
    assert fer.get("/api/mo", id="x").status_code == 404
    assert fer.admin("POST", "/fer/tokens/expire").status_code == 200
    expired = fer.get("/api/mo", id="x")
    assert expired.status_code == 401 and "срок действия токена истёк" in expired.json()["error"]["errorMessage"]
    fer.login()
    assert fer.get("/api/mo", id="x").status_code == 404


@pytest.mark.req("FER-AUTH-4")
def test_token_lifetime_is_configurable(fer_factory) -> None:
    short = fer_factory(**{"fer.token_ttl_seconds": 1})
    short.login()
    import time

    time.sleep(2.1)
    assert short.get("/api/mo", id="x").status_code == 401


@pytest.mark.req("FER-AUTH-5")
def test_writes_for_another_mo_oid_are_forbidden(fer: Fer) -> None:
    mine = "1.2.643.5.1.13.13.12.2.86.3333"  # any credential but the seed's example one (see the next tests)
    fer.add_mo_credentials(mine)
    fer.login(mine, "pw")
    foreign = data.mo(parent_id="1.2.643.5.1.13.13.12.2.86.1111")
    answer = fer.post("mo", [foreign])
    body = answer.json()
    assert answer.status_code == 403 and body["errors"][0]["errorCode"] == "R-230"
    assert "Нет полномочий на выполнение запроса" in body["error"]["errorMessage"]
    assert fer.get("/api/mo", id=foreign["id"]).status_code == 404


@pytest.mark.req("FER-AUTH-5")
def test_another_mo_cannot_overwrite_or_delete_my_records(fer: Fer) -> None:
    mine = data.mo()
    assert fer.post("mo", [mine]).status_code == 200
    other = "1.2.643.5.1.13.13.12.2.86.2222"
    fer.add_mo_credentials(other)
    fer.login(other, "pw")
    assert fer.post("mo", [{**mine, "parent_id": other}]).status_code == 403
    assert fer.delete("mo", mine["id"]).status_code == 403
    assert fer.get("/api/mo", id=mine["id"]).json()["result"]["parent_id"] == SEED_OID


@pytest.mark.golden
@pytest.mark.req("FER-AUTH-5", "FER-AUTH-1", "FER-DUP-1")
def test_the_seed_examples_in_reading_order_get_the_seed_answers_on_a_default_start(fer_factory) -> None:
    """The auth example (8902), then the MO example (parent_id 8916), verbatim: the seed's answers, no 403."""
    fer = fer_factory()
    sent = golden_text("fer/auth.request.json").encode()
    token = requests.post(f"{fer.url}/auth.svc", data=sent, headers={"Content-Type": "application/json"})
    fer.http.headers["Authorization"] = f"bearer {token.json()['Result']['Value']}"
    example = golden("fer/dup_mo_name.request.json")
    earlier = data.mo(id="6b0aaec1-38ba-4bf2-a82c-39f90b925a78", parent_id=example["data"][0]["parent_id"],
                      name=example["data"][0]["name"])  # the stored MO the seed's answer names
    assert fer.post("mo", [earlier]).status_code == 200
    answer = fer.http.post(f"{fer.url}/api/mo", data=golden_text("fer/dup_mo_name.request.json").encode(),
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.json() == golden("fer/dup_mo_name.response.json")


@pytest.mark.req("FER-AUTH-5")
def test_the_seed_credential_exemption_is_switchable(fer_factory) -> None:
    fer = fer_factory(**{"fer.ownership_exempt": []})
    fer.login()
    answer = fer.post("mo", [data.mo(parent_id="1.2.643.5.1.13.13.12.2.86.8916")])
    assert answer.status_code == 403 and answer.json()["errors"][0]["errorCode"] == "R-230"
