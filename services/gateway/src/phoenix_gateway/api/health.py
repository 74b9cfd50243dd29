"""Liveness and readiness of the gateway (NATS, PostgreSQL, Redis, read model)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from phoenix_platform.health import metrics_text
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


@get("/metrics", include_in_schema=False)
async def metrics(runtime: Runtime) -> Response[str]:
    """The read model's position in the log, in Prometheus text format."""
    return Response(
        metrics_text("gateway", await runtime.details()),
        media_type="text/plain; version=0.0.4",
    )
