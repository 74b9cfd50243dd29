"""The engine speaks enough HTTP/1.1 for checks, one request per connection."""

from __future__ import annotations

import asyncio
import time

import pytest
from phoenix_executor.engine import ConnectFailed, Engine, InvalidRequest, ProtocolError

from tests.engine.servers import fixed, free_port, loopback_guard, ok, serve

pytestmark = pytest.mark.timeout(20)


async def test_a_get_returns_status_headers_body_and_timings() -> None:
    async with serve(fixed(ok(b"hello", "X-Thing: 1\r\n"))) as served:
        response = await Engine(guard=loopback_guard()).request(
            "GET", f"http://127.0.0.1:{served.port}/health?x=1"
        )
    assert response.status_code == 200
    assert response.body == b"hello"
    assert response.header("x-thing") == "1"
    assert response.tls_cert_expires_at is None
    assert response.timings.total_ms >= response.timings.connect_ms >= 0
    head = served.requests[0].decode()
    assert head.startswith("GET /health?x=1 HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{served.port}\r\n" in head
    assert "Connection: close\r\n" in head
    assert "Accept-Encoding: identity\r\n" in head


async def test_a_content_length_body_completes_without_waiting_for_close() -> None:
    async def keep_open(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(ok(b"x" * 10_000))
        await reader.read()  # the server would keep the connection; the engine must not wait

    async with serve(keep_open) as served:
        async with asyncio.timeout(2):
            response = await Engine(guard=loopback_guard()).request(
                "GET", f"http://127.0.0.1:{served.port}/"
            )
    assert response.body == b"x" * 10_000


async def test_a_chunked_body_is_reassembled_and_trailers_dropped() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    async with serve(fixed(raw)) as served:
        response = await Engine(guard=loopback_guard()).request(
            "GET", f"http://127.0.0.1:{served.port}/"
        )
    assert response.body == b"hello world"


async def test_a_body_without_length_is_read_until_the_server_closes() -> None:
    async with serve(fixed(b"HTTP/1.0 200 OK\r\n\r\nuntil close")) as served:
        response = await Engine(guard=loopback_guard()).request(
            "GET", f"http://127.0.0.1:{served.port}/"
        )
    assert response.body == b"until close"


async def test_a_body_shorter_than_its_content_length_is_a_protocol_error() -> None:
    async with serve(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")) as served:
        with pytest.raises(ProtocolError):
            await Engine(guard=loopback_guard()).request("GET", f"http://127.0.0.1:{served.port}/")


async def test_head_and_204_responses_have_no_body() -> None:
    async def respond(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")
        await reader.read()

    async with serve(respond) as served:
        response = await Engine(guard=loopback_guard()).request(
            "HEAD", f"http://127.0.0.1:{served.port}/"
        )
    assert (response.status_code, response.body) == (200, b"")


async def test_a_post_sends_its_body_with_a_content_length() -> None:
    async with serve(fixed(ok())) as served:
        await Engine(guard=loopback_guard()).request(
            "POST", f"http://127.0.0.1:{served.port}/", body=b"{}", headers={"X-A": "b"}
        )
    assert b"Content-Length: 2\r\n" in served.requests[0]
    assert b"X-A: b\r\n" in served.requests[0]


async def test_a_100_continue_before_the_response_is_skipped() -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"after")
    async with serve(fixed(raw)) as served:
        response = await Engine(guard=loopback_guard()).request(
            "GET", f"http://127.0.0.1:{served.port}/"
        )
    assert (response.status_code, response.body) == (200, b"after")


async def test_a_refused_connection_is_connect_failed() -> None:
    with pytest.raises(ConnectFailed):
        await Engine(guard=loopback_guard()).request("GET", f"http://127.0.0.1:{free_port()}/")


async def test_garbage_instead_of_a_status_line_is_a_protocol_error() -> None:
    async with serve(fixed(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")) as served:
        with pytest.raises(ProtocolError):
            await Engine(guard=loopback_guard()).request("GET", f"http://127.0.0.1:{served.port}/")


@pytest.mark.parametrize("headers", [{"X-Evil": "a\r\nHost: other"}, {"Bad\nName": "v"}])
async def test_a_header_with_cr_or_lf_is_refused_before_connecting(
    headers: dict[str, str],
) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidRequest):
        await Engine(guard=loopback_guard()).request("GET", "http://127.0.0.1:9/", headers=headers)
    assert time.perf_counter() - started < 1
