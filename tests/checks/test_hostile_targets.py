"""Targets that try to hurt the executor: each one costs a bounded check, nothing more."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from phoenix_contracts.monitors import MonitorSpec
from phoenix_executor.checks.base import CheckContext
from phoenix_executor.checks.http import HttpCheck
from phoenix_executor.checks.keyword import KeywordCheck

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def slow_drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
    for _ in range(600):  # one byte a second for ten minutes
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(1)


async def endless_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n")  # "1 GB"
    chunk = b"x" * 65536
    try:
        for _ in range(16384):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass


BOMB = gzip.compress(b"\0" * (100 * 1024 * 1024))  # 100 MiB of zeros in ~100 KiB


async def gzip_bomb(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
        + str(len(BOMB)).encode()
        + b"\r\n\r\n"
        + BOMB
    )
    await writer.drain()
    writer.close()


def redirect_to(location: Callable[[int], str]) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        port = writer.get_extra_info("sockname")[1]
        head = f"HTTP/1.1 302 Found\r\nLocation: {location(port)}\r\nContent-Length: 0\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        writer.close()

    return handler


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"

    yield start
    for server in servers:
        server.close()


def spec(url: str, **changes: object) -> MonitorSpec:
    fields: dict[str, object] = {"name": "hostile", "type": "http", "url": url, "timeout": 3.0}
    return MonitorSpec(**(fields | changes))  # type: ignore[arg-type]


async def bounded(ctx: CheckContext, monitor: MonitorSpec, check: HttpCheck | None = None):  # type: ignore[no-untyped-def]
    """Run as the executor does: the monitor's timeout bounds the whole check."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(monitor.timeout):
            outcome = await (check or HttpCheck()).run(monitor, ctx)
    except TimeoutError:
        outcome = None
    return outcome, time.monotonic() - started


async def test_a_slow_drip_is_cut_off_by_the_timeout(ctx: CheckContext, serve) -> None:  # type: ignore[no-untyped-def]
    outcome, took = await bounded(ctx, spec(await serve(slow_drip), timeout=2.0))
    assert outcome is None  # the executor records this as a timeout
    assert took < 2.5


async def test_an_endless_body_is_read_only_up_to_the_cap(ctx: CheckContext, serve) -> None:  # type: ignore[no-untyped-def]
    monitor = spec(await serve(endless_body), type="keyword", keyword="needle")
    outcome, took = await bounded(ctx, monitor, KeywordCheck())
    assert outcome is not None
    assert outcome.outcome == "down"  # keyword not in the first MiB
    assert len(outcome.body_excerpt.encode()) <= 1024
    assert took < 3


async def test_a_gzip_bomb_is_never_inflated(ctx: CheckContext, serve) -> None:  # type: ignore[no-untyped-def]
    monitor = spec(await serve(gzip_bomb), type="keyword", keyword="zero")
    outcome, _ = await bounded(ctx, monitor, KeywordCheck())
    assert outcome is not None
    assert outcome.status_code == 200
    assert len(outcome.body_excerpt.encode()) <= 1024


async def test_a_redirect_loop_stops_at_max_redirects(ctx: CheckContext, serve) -> None:  # type: ignore[no-untyped-def]
    url = await serve(redirect_to(lambda port: f"http://127.0.0.1:{port}/again"))
    outcome, _ = await bounded(ctx, spec(url, max_redirects=5))
    assert outcome is not None
    assert (outcome.outcome, outcome.error_class) == ("down", "redirects")


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "http://[::ffff:169.254.169.254]/",
    ],
    ids=["cloud-metadata", "private", "file", "gopher", "mapped-metadata"],
)
async def test_a_redirect_to_an_internal_or_odd_target_is_refused(
    ctx: CheckContext,
    serve,
    location: str,  # type: ignore[no-untyped-def]
) -> None:
    outcome, _ = await bounded(ctx, spec(await serve(redirect_to(lambda port: location))))
    assert outcome is not None
    assert (outcome.outcome, outcome.error_class) == ("down", "refused")
