"""Where the executor and the gateway move their Prometheus metrics.

Counters are process-wide, so every test reads a value before and after.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import msgspec
import pytest
from litestar import Litestar, Request, get
from litestar.response import ServerSentEvent
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp
from phoenix_contracts.checks import CheckCompleted, CheckJob
from phoenix_contracts.monitors import MonitorSpec
from phoenix_executor.checks.base import CheckContext, Outcome
from phoenix_executor.checks.registry import CHECKS
from phoenix_executor.handlers import ExecutorDeps, handle_job
from phoenix_gateway.api.metering import http_metrics
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.app import AppDeps, create_app
from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- executor -------------------------------------------------------------------------


class ScriptedCheck:
    """An http check that answers what the test says, and reports what it saw."""

    type = "http"

    def __init__(self, outcome: Outcome, delay: float = 0.0) -> None:
        self.outcome, self.delay = outcome, delay
        self.in_flight_seen = -1.0

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        self.in_flight_seen = sample("phoenix_checks_in_flight")
        await asyncio.sleep(self.delay)
        return self.outcome


def a_job(type_: str = "http", late: float = 0.0, stale: bool = False) -> CheckJob:
    due = datetime.now(UTC) - timedelta(seconds=late)
    return CheckJob(
        job_id=f"job-{uuid.uuid4()}",
        monitor_id="m",
        organization_id="o",
        region="default",
        due_at=due,
        deadline=due - timedelta(seconds=1) if stale else due + timedelta(seconds=60),
        spec=MonitorSpec(name="x", type=type_, url="http://127.0.0.1/" if type_ != "push" else ""),  # type: ignore[arg-type]
    )


async def run(job: CheckJob) -> CheckCompleted:
    published: list[CheckCompleted] = []

    async def publish(result: CheckCompleted) -> None:
        published.append(result)

    await handle_job(job, ExecutorDeps(checks=cast(CheckContext, None), publish=publish))
    [result] = published
    return result


@pytest.mark.parametrize("outcome", ["up", "down"])
async def test_a_check_is_counted_by_type_and_outcome_and_timed(
    monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    check = ScriptedCheck(Outcome(outcome=outcome, message=""), delay=0.05)  # type: ignore[arg-type]
    monkeypatch.setitem(CHECKS, "http", check)
    counted = sample("phoenix_checks_total", type="http", outcome=outcome)
    timed = sample("phoenix_check_duration_seconds_count", type="http")
    took = sample("phoenix_check_duration_seconds_sum", type="http")
    in_flight = sample("phoenix_checks_in_flight")

    result = await run(a_job())

    assert result.outcome == outcome
    assert sample("phoenix_checks_total", type="http", outcome=outcome) - counted == 1
    assert sample("phoenix_check_duration_seconds_count", type="http") - timed == 1
    assert 0.05 <= sample("phoenix_check_duration_seconds_sum", type="http") - took < 1.0
    assert check.in_flight_seen == in_flight + 1  # the running check itself
    assert sample("phoenix_checks_in_flight") == in_flight


async def test_a_check_that_times_out_is_counted_down_and_leaves_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(CHECKS, "http", ScriptedCheck(Outcome(outcome="up", message=""), 5.0))
    spec = MonitorSpec(name="x", type="http", url="http://127.0.0.1/", timeout=0.05)
    job = msgspec.structs.replace(a_job(), spec=spec)
    down = sample("phoenix_checks_total", type="http", outcome="down")
    in_flight = sample("phoenix_checks_in_flight")
    result = await run(job)
    assert (result.outcome, result.error_class) == ("down", "timeout")
    assert sample("phoenix_checks_total", type="http", outcome="down") - down == 1
    assert sample("phoenix_checks_in_flight") == in_flight


async def test_start_lateness_is_start_minus_the_due_time() -> None:
    # A push check runs nothing over the network: only lateness and the count move.
    count = sample("phoenix_check_start_lateness_seconds_count")
    total = sample("phoenix_check_start_lateness_seconds_sum")
    timed = sample("phoenix_check_duration_seconds_count", type="push")
    result = await run(a_job("push", late=2.0))
    assert result.outcome == "skipped"  # no beat expected yet
    assert sample("phoenix_check_start_lateness_seconds_count") - count == 1
    lateness = sample("phoenix_check_start_lateness_seconds_sum") - total
    assert lateness == pytest.approx((result.started_at - result.due_at).total_seconds())
    assert 2.0 <= lateness < 2.5
    assert sample("phoenix_checks_total", type="push", outcome="skipped") >= 1
    assert sample("phoenix_check_duration_seconds_count", type="push") == timed


async def test_a_stale_job_is_counted_with_its_lateness_never_run_and_publishes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check = ScriptedCheck(Outcome(outcome="up", message=""))
    monkeypatch.setitem(CHECKS, "http", check)
    stale = sample("phoenix_checks_total", type="http", outcome="stale")
    timed = sample("phoenix_check_duration_seconds_count", type="http")
    total = sample("phoenix_check_start_lateness_seconds_sum")
    published: list[CheckCompleted] = []

    async def publish(result: CheckCompleted) -> None:
        published.append(result)

    deps = ExecutorDeps(checks=cast(CheckContext, None), publish=publish)
    await handle_job(a_job(late=90.0, stale=True), deps)
    assert published == []
    assert check.in_flight_seen == -1.0  # never ran
    assert sample("phoenix_checks_total", type="http", outcome="stale") - stale == 1
    assert sample("phoenix_check_duration_seconds_count", type="http") == timed
    assert sample("phoenix_check_start_lateness_seconds_sum") - total >= 90.0


# --- gateway ------------------------------------------------------------------------------


class Refusing:
    """Every credential is refused, as for a caller without a session."""

    async def authorize(self, request: Request) -> None:  # type: ignore[type-arg]
        raise Problem(401, "authentication required")


def passthrough(app: ASGIApp) -> ASGIApp:
    return app


@pytest.fixture
async def gateway() -> AsyncIterator[AsyncTestClient[Litestar]]:
    nothing = cast(Any, None)
    deps = AppDeps(
        runtime=nothing,
        nats=nothing,
        subjects=nothing,
        commands=nothing,
        read_model=nothing,
        cookie_secure=False,
        max_body_bytes=1024,
        resolver=cast(Any, Refusing()),
        trusted_proxies=nothing,
        live=nothing,
        idempotency=passthrough,
        history=nothing,
        rollups=nothing,
        deliveries=nothing,
        public_pages=nothing,
    )
    async with AsyncTestClient(app=create_app(deps)) as client:
        yield client


def http_series() -> dict[tuple[str, ...], float]:
    """Every ``phoenix_http_requests_total`` series: (method, route, status) → count."""
    out = {}
    for family in REGISTRY.collect():
        if family.name == "phoenix_http_requests":
            for s in family.samples:
                if s.name.endswith("_total"):
                    key = (s.labels["method"], s.labels["route"], s.labels["status"])
                    out[key] = s.value
    return out


async def test_the_gateway_counts_requests_by_route_template_never_by_raw_path(
    gateway: AsyncTestClient[Litestar],
) -> None:
    before = http_series()
    monitor_id = str(uuid.uuid4())
    assert (await gateway.get("/healthz")).status_code == 200
    assert (await gateway.get(f"/api/v1/monitors/{monitor_id}")).status_code == 401
    assert (await gateway.get(f"/api/v1/no-such-thing/{monitor_id}")).status_code == 404
    assert (await gateway.request("BREW", "/healthz")).status_code == 405
    after = http_series()

    moved = {key: after[key] - before.get(key, 0.0) for key in after}
    moved = {key: n for key, n in moved.items() if n}
    assert moved == {
        ("GET", "/healthz", "200"): 1,
        ("GET", "/api/v1/monitors/{monitor_id}", "401"): 1,
        ("GET", "unmatched", "404"): 1,
        ("other", "unmatched", "405"): 1,
    }
    assert not any(monitor_id in route for _, route, _ in after)
    durations = sample(
        "phoenix_http_request_duration_seconds_count",
        method="GET",
        route="/api/v1/monitors/{monitor_id}",
    )
    assert durations >= 1


async def test_an_event_stream_counts_once_with_the_time_it_took_to_open() -> None:
    @get("/stream/{topic:str}", sync_to_thread=False)
    def stream(topic: str) -> ServerSentEvent:
        async def events() -> AsyncIterator[str]:
            yield "first"
            await asyncio.sleep(0.5)  # the client listens for a while
            yield "second"

        return ServerSentEvent(events())

    app = Litestar(route_handlers=[stream])
    app.asgi_handler = http_metrics(app.asgi_handler)
    route = {"method": "GET", "route": "/stream/{topic}"}
    count = sample("phoenix_http_request_duration_seconds_count", **route)
    took = sample("phoenix_http_request_duration_seconds_sum", **route)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/stream/news")
    assert response.status_code == 200
    assert "second" in response.text  # the whole stream was read: it lasted ≥ 0.5 s
    assert sample("phoenix_http_requests_total", status="200", **route) == 1
    assert sample("phoenix_http_request_duration_seconds_count", **route) - count == 1
    assert sample("phoenix_http_request_duration_seconds_sum", **route) - took < 0.25
