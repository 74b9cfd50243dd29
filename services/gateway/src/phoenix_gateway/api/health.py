"""Liveness and readiness of the gateway (NATS, PostgreSQL, Redis, read model).

``/metrics`` is not here: it is served on the health port (``PHOENIX_HEALTH_PORT``,
loopback by default), never on the public API port.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from phoenix_platform.runtime import Runtime


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok", "service": "gateway"}


@get("/readyz")
async def readyz(runtime: Runtime) -> Response[dict[str, Any]]:
    ready, checks = await runtime.ready()
    body = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "details": await runtime.details(),
    }
    return Response(body, status_code=200 if ready else 503)
