"""Redirects are followed by hand, and every hop goes through the SSRF guard again."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from phoenix_executor.engine import Engine, TargetRefused, TooManyRedirects
from phoenix_platform.netguard import NetGuard, parse_networks

from tests.engine.servers import CountingGuard, loopback_guard, ok, path_of, serve

pytestmark = pytest.mark.timeout(20)


def redirect(location: str, code: int = 302) -> bytes:
    return f"HTTP/1.1 {code} Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()


def chain_handler(port_box: list[int]):  # type: ignore[no-untyped-def]
    async def handler(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        path = path_of(head)
        if path == "/start":
            w.write(redirect("next"))  # relative
        elif path == "/next":
            w.write(redirect(f"http://127.0.0.1:{port_box[0]}/end", 301))  # absolute
        elif path == "/end":
            w.write(ok(b"arrived"))
        else:  # /loop redirects to itself forever
            w.write(redirect("/loop"))

    return handler


async def test_a_redirect_chain_is_followed_to_the_final_answer() -> None:
    box: list[int] = []
    async with serve(chain_handler(box)) as served:
        box.append(served.port)
        response = await Engine(guard=loopback_guard()).request(
            "GET", f"http://127.0.0.1:{served.port}/start", max_redirects=5
        )
    assert (response.status_code, response.body, response.redirects) == (200, b"arrived", 2)
    assert response.url.endswith("/end")


async def test_a_redirect_loop_stops_at_max_redirects() -> None:
    async with serve(chain_handler([])) as served:
        with pytest.raises(TooManyRedirects):
            await Engine(guard=loopback_guard()).request(
                "GET", f"http://127.0.0.1:{served.port}/loop", max_redirects=3
            )
    assert len(served.requests) == 4  # the first request and three follow-ups


async def test_without_max_redirects_the_redirect_itself_is_the_answer() -> None:
    async with serve(chain_handler([])) as served:
        response = await Engine(guard=loopback_guard()).request(
            "GET", f"http://127.0.0.1:{served.port}/start"
        )
    assert (response.status_code, response.header("location")) == (302, "next")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:80/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/"]
)
async def test_the_default_guard_refuses_loopback_and_metadata_addresses(url: str) -> None:
    with pytest.raises(TargetRefused):
        await Engine(guard=NetGuard()).request("GET", url)


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/end",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ],
)
async def test_a_redirect_to_a_private_address_or_other_scheme_is_refused(location: str) -> None:
    # The server lives on 127.0.0.2, the only address this guard allows (as if public).
    async def handler(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(redirect(location.format(port=served.port)))

    guard = NetGuard(parse_networks("127.0.0.2/32"))
    async with serve(handler, host="127.0.0.2") as served:
        with pytest.raises(TargetRefused):
            await Engine(guard=guard).request(
                "GET", f"http://127.0.0.2:{served.port}/", max_redirects=3
            )
    assert len(served.requests) == 1


async def test_a_303_after_post_is_followed_with_a_get_without_body() -> None:
    async def handler(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(redirect("/done", 303) if path_of(head) == "/form" else ok())

    async with serve(handler) as served:
        await Engine(guard=loopback_guard()).request(
            "POST", f"http://127.0.0.1:{served.port}/form", body=b"a=1", max_redirects=1
        )
    assert served.requests[1].startswith(b"GET /done ")
    assert b"Content-Length" not in served.requests[1]


@pytest.mark.parametrize("credential", ["Authorization", "X-API-Key", "Private-Token"])
async def test_credentials_are_not_sent_to_another_origin_after_a_redirect(
    credential: str,
) -> None:
    async with serve(lambda h, r, w: _write(w, ok())) as target:

        async def to_target(head: bytes, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            w.write(redirect(f"http://target.test:{target.port}/"))

        async with serve(to_target) as first:
            guard = CountingGuard({"target.test": ipaddress.ip_address("127.0.0.1")})
            await Engine(guard=guard).request(
                "GET",
                f"http://127.0.0.1:{first.port}/",
                headers={credential: "Bearer secret", "X-Trace": "kept"},
                max_redirects=1,
            )
    assert credential.encode() in first.requests[0]
    assert b"Bearer secret" not in target.requests[0]
    assert b"X-Trace: kept" in target.requests[0]
    assert f"Host: target.test:{target.port}".encode() in target.requests[0]


async def _write(w: asyncio.StreamWriter, raw: bytes) -> None:
    w.write(raw)
