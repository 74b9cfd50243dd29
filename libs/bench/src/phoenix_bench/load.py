"""Closed-loop load: ``concurrency`` workers, each doing one check after another."""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

WARMUP = 0.5  # seconds not counted: first connections, caches, JIT-free but still


@dataclass(frozen=True)
class Rate:
    per_second: float  # completed checks per wall second
    per_cpu_second: float  # per second of this process's CPU (user + system)
    completed: int
    errors: int
    first_error: str | None = None


async def closed_loop(
    check: Callable[[], Awaitable[object]],
    seconds: float,
    concurrency: int,
    warmup: float = WARMUP,
    drain: bool = False,
) -> Rate:
    """Checks/s over ``seconds`` after ``warmup``.

    ``drain``: count every check, including the first wave and the ones still running at
    the end, over the whole time taken: for clients so slow that a window may see none.
    """
    loop = asyncio.get_running_loop()
    began = loop.time()
    start = loop.time() + warmup
    end = start + seconds
    completed = errors = 0
    first_error: str | None = None
    cpu_start = 0.0

    async def worker() -> None:
        nonlocal completed, errors, first_error
        while loop.time() < end:
            try:
                async with asyncio.timeout(10):
                    await check()
            except Exception as exc:
                if loop.time() >= start:
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"
                continue
            now = loop.time()
            if drain or start <= now < end:
                completed += 1

    async def cpu_mark() -> None:
        nonlocal cpu_start
        await asyncio.sleep(warmup)
        cpu_start = time.process_time()

    marker = asyncio.ensure_future(cpu_mark())
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await marker
    cpu = max(time.process_time() - cpu_start, 1e-9)
    wall = loop.time() - began if drain else seconds
    return Rate(completed / wall, completed / cpu, completed, errors, first_error)


class _Raw(asyncio.Protocol):
    """Connect, write, wait for close: the floor of what any asyncio client must do."""

    def __init__(self, request: bytes, done: asyncio.Future[None]) -> None:
        self.request, self.done = request, done

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.WriteTransport, transport).write(self.request)  # uvloop: no isinstance

    def data_received(self, data: bytes) -> None:
        pass  # no parsing at all: that is what makes it a ceiling

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def raw_check(port: int, context: ssl.SSLContext | None) -> Callable[[], Awaitable[None]]:
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"

    async def check() -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        transport, _ = await loop.create_connection(
            lambda: _Raw(request, done), "127.0.0.1", port, ssl=context
        )
        try:
            await done
        finally:
            transport.abort()

    return check


def openssl_s_time(port: int, seconds: int, cpus: set[int]) -> dict[str, float] | None:
    """Full handshakes/s of ``openssl s_time -new`` (sequential, one connection at a time)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    out = _run_pinned(
        [openssl, "s_time", "-connect", f"127.0.0.1:{port}", "-new", "-time", str(seconds)],
        cpus,
        seconds + 30,
    )
    # "1234 connections in 1.23s; 1003.25 connections/user sec, bytes read 0"
    # "1234 connections in 6 real seconds, 0 bytes read per connection"
    user = re.search(r"(\d+) connections in ([\d.]+)s; ([\d.]+) connections/user sec", out)
    real = re.search(r"(\d+) connections in (\d+) real seconds", out)
    if not user or not real:
        return None
    return {
        "per_second": int(real[1]) / max(float(real[2]), 1e-9),
        "per_user_cpu_second": float(user[3]),
    }


def wrk_close(port: int, seconds: int, concurrency: int, cpus: set[int]) -> float | None:
    """Requests/s of ``wrk`` with ``Connection: close`` (a new connection per request)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    out = _run_pinned(
        [
            wrk,
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "-H",
            "Connection: close",
            f"http://127.0.0.1:{port}/",
        ],
        cpus,
        seconds + 30,
    )
    found = re.search(r"Requests/sec:\s*([\d.]+)", out)
    return float(found[1]) if found else None


def _run_pinned(command: list[str], cpus: set[int], timeout: float) -> str:
    import os

    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=lambda: os.sched_setaffinity(0, cpus),
    )
    return result.stdout + result.stderr
