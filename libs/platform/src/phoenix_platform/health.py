"""A tiny HTTP endpoint for liveness and readiness probes.

Services other than the gateway have no web framework; a probe needs only two
paths, so a few lines of asyncio serve them without another dependency.
``GET /healthz`` answers while the process runs; ``GET /readyz`` answers 200
only when every readiness check passes, with each check's result as JSON.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import msgspec

from phoenix_platform import metrics

ReadinessCheck = Callable[[], Awaitable[bool]]
# What /readyz reports beside the checks, e.g. a projection's lag.
Detail = Callable[[], Awaitable[dict[str, int]]]


class HealthServer:
    def __init__(
        self,
        service: str,
        checks: dict[str, ReadinessCheck],
        details: dict[str, Detail] | None = None,
    ) -> None:
        self._service = service
        self._checks = checks
        self._details = details if details is not None else {}
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def readiness(self) -> tuple[bool, dict[str, bool]]:
        results: dict[str, bool] = {}
        for name, check in self._checks.items():
            try:
                results[name] = bool(await asyncio.wait_for(check(), timeout=2.0))
            except Exception:
                results[name] = False
        return all(results.values()), results

    async def details(self) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for name, detail in self._details.items():
            try:
                found[name] = await asyncio.wait_for(detail(), timeout=2.0)
            except Exception:
                found[name] = {}  # information only: readiness is decided by the checks
        return found

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=5.0)
            parts = request_line.decode("latin-1").split()
            path = parts[1] if len(parts) >= 2 else ""
            body: dict[str, object]
            if path == "/metrics":
                text = metrics.render(self._service, await self.details())
                await _reply(writer, 200, text, metrics.CONTENT_TYPE)
                return
            if path == "/healthz":
                status, body = 200, {"status": "ok", "service": self._service}
            elif path == "/readyz":
                ready, checks = await self.readiness()
                status = 200 if ready else 503
                body = {
                    "status": "ready" if ready else "not ready",
                    "checks": checks,
                    "details": await self.details(),
                }
            else:
                status, body = 404, {"status": "not found"}
            await _reply(writer, status, msgspec.json.encode(body), "application/json")
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()


async def _reply(writer: asyncio.StreamWriter, status: int, payload: bytes, kind: str) -> None:
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
        + payload
    )
    await writer.drain()
