"""Hostile targets cost the engine bounded memory and time."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import time

import pytest
from phoenix_executor.engine import Engine, ProtocolError, TargetRefused

from tests.engine.servers import CountingGuard, loopback_guard, ok, serve

pytestmark = pytest.mark.timeout(20)


async def endless(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n")  # "1 GB", never ending
    block = b"x" * 65536
    while True:
        w.write(block)
        await w.drain()


async def test_a_1_gb_body_stops_at_max_body_quickly() -> None:
    engine = Engine(guard=loopback_guard(), max_body=100_000)
    started = time.perf_counter()
    async with serve(endless) as served:
        response = await engine.request("GET", f"http://127.0.0.1:{served.port}/")
        await asyncio.wait_for(served.closed_by_client.wait(), 5)  # and the connection is gone
    assert time.perf_counter() - started < 3
    assert len(response.body) == 100_000
    assert response.body_truncated


async def test_an_endless_chunked_body_also_stops_at_max_body() -> None:
    async def chunks(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            w.write(b"10000\r\n" + b"y" * 65536 + b"\r\n")
            await w.drain()

    async with serve(chunks) as served:
        response = await Engine(guard=loopback_guard(), max_body=200_000).request(
            "GET", f"http://127.0.0.1:{served.port}/"
        )
    assert (len(response.body), response.body_truncated) == (200_000, True)


async def test_a_gzip_bomb_is_returned_compressed_never_inflated() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB of zeros in ~50 KB
    raw = ok(bomb, "Content-Encoding: gzip\r\n")
    async with serve(lambda h, r, w: _write(w, raw)) as served:
        response = await Engine(guard=loopback_guard(), max_body=1_000_000).request(
            "GET", f"http://127.0.0.1:{served.port}/"
        )
    assert response.body == bomb
    assert b"Accept-Encoding: identity" in served.requests[0]


async def test_a_slow_drip_is_cut_by_the_callers_timeout_and_the_connection_closed() -> None:
    async def drip(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
        while True:
            w.write(b"x")
            await w.drain()
            await asyncio.sleep(0.05)

    async with serve(drip) as served:
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await Engine(guard=loopback_guard()).request(
                    "GET", f"http://127.0.0.1:{served.port}/"
                )
        assert time.perf_counter() - started < 1
        await asyncio.wait_for(served.closed_by_client.wait(), 3)


async def test_a_header_section_over_64_kib_is_a_protocol_error() -> None:
    huge = "".join(f"X-Pad-{i}: {'a' * 100}\r\n" for i in range(700))  # ~75 KiB
    async with serve(lambda h, r, w: _write(w, ok(b"", huge))) as served:
        with pytest.raises(ProtocolError, match="header section"):
            await Engine(guard=loopback_guard()).request("GET", f"http://127.0.0.1:{served.port}/")


async def test_a_dns_cache_hit_avoids_a_second_resolve() -> None:
    guard = CountingGuard({"site.test": ipaddress.ip_address("127.0.0.1")})
    engine = Engine(guard=guard)
    async with serve(lambda h, r, w: _write(w, ok())) as served:
        for _ in range(3):
            response = await engine.request("GET", f"http://site.test:{served.port}/")
            assert response.status_code == 200
    assert guard.calls == ["site.test"]
    assert f"Host: site.test:{served.port}".encode() in served.requests[2]


async def test_a_zero_ttl_resolves_every_time() -> None:
    guard = CountingGuard({"site.test": ipaddress.ip_address("127.0.0.1")})
    engine = Engine(guard=guard, dns_ttl=0)
    async with serve(lambda h, r, w: _write(w, ok())) as served:
        for _ in range(2):
            await engine.request("GET", f"http://site.test:{served.port}/")
    assert guard.calls == ["site.test", "site.test"]


async def test_a_refused_answer_is_never_cached() -> None:
    guard = CountingGuard({"evil.test": ipaddress.ip_address("169.254.169.254")})
    engine = Engine(guard=guard)
    for _ in range(2):
        with pytest.raises(TargetRefused):
            await engine.request("GET", "http://evil.test/")
    assert guard.calls == ["evil.test", "evil.test"]


async def _write(w: asyncio.StreamWriter, raw: bytes) -> None:
    w.write(raw)
