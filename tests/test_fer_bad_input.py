"""X-5 and FER-GZ-1: hostile bodies get a documented error and nothing stored is lost."""

from __future__ import annotations

import gzip
import socket
import zlib

import orjson
import pytest

from tests import fer_data as data
from tests.conftest import Fer


def stored_mo(fer: Fer) -> dict:
    mo = data.mo()
    assert fer.post("mo", [mo]).status_code == 200
    return mo


def post_raw(fer: Fer, body: bytes, **headers: str) -> dict:
    answer = fer.http.post(f"{fer.url}/api/mo", data=body, headers={"Content-Type": "application/json", **headers})
    payload = answer.json()
    assert answer.status_code == payload["statusCode"]
    return payload


@pytest.mark.req("FER-GZ-1")
def test_gzip_and_plain_bodies_are_both_accepted(fer: Fer) -> None:
    mo = data.mo()
    body = gzip.compress(orjson.dumps({"data": [mo]}))
    assert post_raw(fer, body, **{"Content-Encoding": "gzip"})["sendedGuids"] == [mo["id"]]
    assert fer.get("/api/mo", id=mo["id"]).status_code == 200


@pytest.mark.req("FER-GZ-1", "X-5")
@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"not gzip at all", {"Content-Encoding": "gzip"}, 400),
        (gzip.compress(b'{"data": []}')[:-6], {"Content-Encoding": "gzip"}, 400),
        (gzip.compress(b'{"data": [' + b" " * (20 * 1024 * 1024) + b"]}"), {"Content-Encoding": "gzip"}, 413),
        (b'{"data": []}', {"Content-Encoding": "br"}, 400),
        (b'{"data": [', {}, 400),
        (b"\xff\xfe{}", {}, 400),
        (b'{"data": {"id": 1}}', {}, 400),
        (b'[{"data": []}]', {}, 400),
        (b'{"data": [1, "x", null]}', {}, 400),
        (b'{"data": []}', {"Content-Type": "text/plain"}, 400),
    ],
    ids=["bad-gzip", "truncated-gzip", "gzip-bomb", "brotli", "malformed-json", "not-utf8", "data-not-list",
         "top-level-array", "records-not-objects", "wrong-content-type"],
)  # fmt: skip
def test_hostile_bodies_get_their_error_and_nothing_is_lost(fer: Fer, body: bytes, headers: dict, status: int) -> None:
    before = stored_mo(fer)
    answer = fer.http.post(f"{fer.url}/api/mo", data=body, headers={"Content-Type": "application/json", **headers})
    payload = answer.json()
    assert answer.status_code == status == payload["statusCode"]
    assert payload["isSuccess"] is False and payload["error"]["errorMessage"]
    assert fer.get("/api/mo", id=before["id"]).status_code == 200
    assert fer.post("mo", [data.mo()]).status_code == 200


@pytest.mark.req("FER-GZ-1", "X-5")
def test_ten_megabyte_body_is_refused_with_413(fer: Fer) -> None:
    before = stored_mo(fer)
    body = b'{"data": [' + b" " * (10 * 1024 * 1024) + b"]}"
    payload = post_raw(fer, body)
    assert payload["statusCode"] == 413 and payload["error"]["errorCode"] == "413"
    assert fer.get("/api/mo", id=before["id"]).status_code == 200


@pytest.mark.req("FER-GZ-1")
def test_a_bomb_costs_no_more_than_the_cap(fer: Fer) -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = bomb.compress(b"\0" * (512 * 1024 * 1024)) + bomb.flush()
    assert len(body) < 1024 * 1024
    assert post_raw(fer, body, **{"Content-Encoding": "gzip"})["statusCode"] == 413


@pytest.mark.req("X-5")
def test_xml_and_deeply_nested_json_do_not_crash(fer: Fer) -> None:
    xml = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert post_raw(fer, xml)["statusCode"] == 400
    nested = b'{"data": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    assert post_raw(fer, nested)["statusCode"] == 400
    assert fer.admin("GET", "/health").status_code == 200


@pytest.mark.req("X-5")
def test_client_that_hangs_up_mid_body_does_not_hurt_the_server(fer: Fer) -> None:
    host, port = fer.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(
            b"POST /api/mo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
    assert fer.admin("GET", "/health").status_code == 200
    assert fer.post("mo", [data.mo()]).status_code == 200


@pytest.mark.req("X-5")
def test_unknown_path_and_method(fer: Fer) -> None:
    assert fer.http.get(f"{fer.url}/api/nothing").json()["statusCode"] == 404
    assert fer.http.put(f"{fer.url}/api/mo").json()["statusCode"] == 405
