"""The ``http`` check: one request, judged by status code."""

from __future__ import annotations

import time

import httpx
from phoenix_contracts.checks import Timings
from phoenix_contracts.monitors import MonitorSpec
from phoenix_platform.netguard import NetGuard, TargetRefused
from phoenix_platform.outbound import fetch

from phoenix_executor.checks.base import CheckContext, Outcome

# Compressed bodies are never inflated here: a gzip bomb costs only its size.
DEFAULT_HEADERS = {"User-Agent": "Phoenix-Uptime/0.1", "Accept-Encoding": "identity"}


def status_accepted(code: int, accepted: list[str]) -> bool:
    for item in accepted:
        low, _, high = item.partition("-")
        if int(low) <= code <= int(high or low):
            return True
    return False


class HttpCheck:
    type = "http"

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        client = ctx.insecure_client if spec.ignore_tls_errors else ctx.client
        return await run_http(spec, client, ctx.guard)


async def run_http(spec: MonitorSpec, client: httpx.AsyncClient, guard: NetGuard) -> Outcome:
    started = time.perf_counter()
    try:
        fetched = await fetch(
            client,
            guard,
            spec.method,
            spec.url,
            headers={**DEFAULT_HEADERS, **spec.headers},
            content=spec.body.encode() if spec.body is not None else None,
            max_redirects=spec.max_redirects,
        )
    except TargetRefused as exc:
        return Outcome.down("refused", str(exc), started)
    except httpx.TimeoutException:
        return Outcome.down("timeout", "the request timed out", started)
    except httpx.TooManyRedirects:
        return Outcome.down("redirects", f"more than {spec.max_redirects} redirects", started)
    except httpx.ConnectError as exc:
        return Outcome.down("connect", str(exc) or "connection failed", started)
    except httpx.HTTPError as exc:
        return Outcome.down("http", f"{type(exc).__name__}: {exc}", started)
    total = (time.perf_counter() - started) * 1000
    ok = status_accepted(fetched.status_code, spec.accepted_status_codes)
    return Outcome(
        outcome="up" if ok else "down",
        status_code=fetched.status_code,
        error_class=None if ok else "status",
        message=f"HTTP {fetched.status_code}",
        timings=Timings(total_ms=round(total, 2)),
    )
