"""The lean outbound HTTP client: keep-alive, deadlines, broken servers."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from emulators.core.httpclient import ClientError, HttpClient


def raw_server(answers: list[bytes], close_after: bool = True) -> tuple[int, threading.Thread]:
    """A server that sends the given raw bytes to each connection in turn."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        for answer in answers:
            connection, _ = listener.accept()
            connection.recv(65536)
            connection.sendall(answer)
            if close_after:
                connection.close()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def test_keep_alive_reuses_one_connection() -> None:
    from emulators.core.testing import serve_in_thread

    async def app(scope: dict, receive: object, send: object) -> None:
        if scope["type"] == "http":
            await receive()  # type: ignore[operator]
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})  # type: ignore[operator]
            await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    served = serve_in_thread(app)

    async def run() -> tuple[list[bytes], int]:
        client = HttpClient()
        opened = 0
        open_connection = client._open

        async def counting(key: tuple[str, str, int]) -> object:
            nonlocal opened
            opened += 1
            return await open_connection(key)

        client._open = counting  # type: ignore[method-assign]
        bodies = [(await client.request("POST", f"{served.url}/x", b"{}", timeout=5)).body for _ in range(4)]
        await client.close()
        return bodies, opened

    try:
        assert asyncio.run(run()) == ([b"ok"] * 4, 1)
    finally:
        served.stop()


def test_chunked_answers_are_reassembled() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    port, _ = raw_server([chunked])
    answer = asyncio.run(HttpClient().request("GET", f"http://127.0.0.1:{port}/x", timeout=5))
    assert answer.status == 200 and answer.body == b"hello world"


@pytest.mark.parametrize(
    ("answers", "kind"),
    [
        ([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"], "transport_error"),
        ([b"garbage\r\n\r\n"], "transport_error"),
    ],
    ids=["cut-short", "not-http"],
)
def test_broken_answers_are_transport_errors(answers: list[bytes], kind: str) -> None:
    port, _ = raw_server(answers)
    with pytest.raises(ClientError) as caught:
        asyncio.run(HttpClient().request("GET", f"http://127.0.0.1:{port}/", timeout=5))
    assert caught.value.kind == kind


def test_refused_and_timeout() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ClientError) as refused:
        asyncio.run(HttpClient().request("GET", f"http://127.0.0.1:{port}/", timeout=5))
    assert refused.value.kind == "refused"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts, never answers
    with pytest.raises(ClientError) as late:
        asyncio.run(HttpClient().request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.3))
    assert late.value.kind == "timeout"
    listener.close()


def test_a_connection_closed_while_idle_is_replaced_transparently() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    port, _ = raw_server([ok, ok], close_after=True)  # closes after each answer despite keep-alive

    async def run() -> list[bytes]:
        client = HttpClient()
        first = await client.request("GET", f"http://127.0.0.1:{port}/", timeout=5)
        await asyncio.sleep(0.1)
        second = await client.request("GET", f"http://127.0.0.1:{port}/", timeout=5)
        return [first.body, second.body]

    assert asyncio.run(run()) == [b"ok", b"ok"]
