"""The ``tcp`` check: can a TCP connection to ``hostname:port`` be opened?

The host is resolved by the SSRF guard and the connection goes to the very
address it approved, so a second DNS answer cannot swap in an internal one.
``connect_guarded`` is shared with the ``tls`` check, which goes on to a
handshake over the same connection. Nothing is sent: the connection is closed
as soon as it is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

from phoenix_contracts.checks import Timings
from phoenix_contracts.monitors import MonitorSpec
from phoenix_platform.netguard import IPAddress, NetGuard, TargetRefused

from phoenix_executor.checks.base import CheckContext, Outcome


def ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 2)


@dataclass
class Connection:
    address: IPAddress
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    started: float
    resolved: float  # perf_counter marks, for the timings
    connected: float

    async def close(self) -> None:
        self.writer.close()
        # The peer may already be gone; closing is best effort.
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await self.writer.wait_closed()


async def connect_guarded(guard: NetGuard, host: str, port: int) -> Connection | Outcome:
    """An open connection to the guard-approved address of ``host``, or a down ``Outcome``."""
    started = time.perf_counter()
    try:
        address = await guard.resolve(host, port)
    except TargetRefused as exc:
        return Outcome.down("refused", str(exc), started)
    resolved = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(str(address), port)
    except OSError as exc:
        message = f"cannot connect to {host}:{port} ({address}): {exc.strerror or exc}"
        return Outcome.down("connect", message, started)
    return Connection(address, reader, writer, started, resolved, time.perf_counter())


class TcpCheck:
    type = "tcp"

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        if not spec.hostname or spec.port is None:
            return Outcome.down(
                "config", "a tcp check needs hostname and port", time.perf_counter()
            )
        conn = await connect_guarded(ctx.guard, spec.hostname, spec.port)
        if isinstance(conn, Outcome):
            return conn
        await conn.close()
        connect_ms = ms(conn.resolved, conn.connected)
        return Outcome(
            outcome="up",
            message=f"connected to {spec.hostname}:{spec.port} ({conn.address}) in {connect_ms} ms",
            timings=Timings(
                dns_ms=ms(conn.started, conn.resolved),
                connect_ms=connect_ms,
                total_ms=ms(conn.started, time.perf_counter()),
            ),
        )
