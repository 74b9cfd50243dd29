"""Running one check job and publishing its result."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from phoenix_contracts.checks import CheckCompleted, CheckJob
from phoenix_platform import metrics
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger
from phoenix_platform.text import storable
from prometheus_client import Counter, Histogram

from phoenix_executor.checks.base import CheckContext, Outcome
from phoenix_executor.checks.push import judge_heartbeat
from phoenix_executor.checks.registry import CHECKS
from phoenix_executor.secrets import UnopenedSecret, opened_spec

log = get_logger(__name__)


@dataclass(frozen=True)
class ExecutorDeps:
    checks: CheckContext
    publish: Callable[[CheckCompleted], Awaitable[None]]
    secrets_key: bytes | None = None  # opens the monitors' sealed credentials


# Labelled children, looked up once per (type, outcome): ``.labels()`` takes a lock
# and builds a key on every call, and this is the executor's hot path.
@cache
def _checks(kind: str, outcome: str) -> Counter:
    return metrics.CHECKS.labels(kind, outcome)


@cache
def _duration(kind: str) -> Histogram:
    return metrics.CHECK_DURATION.labels(kind)


async def handle_job(job: CheckJob, deps: ExecutorDeps) -> None:
    started_at = datetime.now(UTC)
    kind = job.spec.type
    metrics.CHECK_START_LATENESS.observe((started_at - job.due_at).total_seconds())
    if kind == "push":
        outcome = judge_heartbeat(job, started_at)
    elif started_at > job.deadline:
        # The next slot's job is already queued, so this one is worthless. It is
        # only counted: a result would cost the whole pipeline (evaluator, history,
        # scheduler) as much as a real check, and a backlog would never drain.
        _checks(kind, "stale").inc()
        return
    else:
        metrics.CHECKS_IN_FLIGHT.inc()
        started = time.perf_counter()
        try:
            outcome = await run_check(job, deps)
        finally:
            metrics.CHECKS_IN_FLIGHT.dec()
        _duration(kind).observe(time.perf_counter() - started)
    _checks(kind, outcome.outcome).inc()
    await deps.publish(
        CheckCompleted(
            result_id=uuid7(),
            job_id=job.job_id,
            monitor_id=job.monitor_id,
            organization_id=job.organization_id,
            region=job.region,
            due_at=job.due_at,
            started_at=started_at,
            finished_at=datetime.now(UTC),
            outcome=outcome.outcome,
            timings=outcome.timings,
            status_code=outcome.status_code,
            error_class=outcome.error_class,
            # What a monitored server sends is anyone's text: stored as it reads,
            # minus the characters no database column can hold.
            message=storable(outcome.message),
            body_excerpt=storable(outcome.body_excerpt),
            cert_expires_at=outcome.cert_expires_at,
            cert_issuer=storable(outcome.cert_issuer) if outcome.cert_issuer else None,
        )
    )


async def run_check(job: CheckJob, deps: ExecutorDeps) -> Outcome:
    started = time.perf_counter()
    check = CHECKS.get(job.spec.type)
    if check is None:
        return Outcome(
            outcome="skipped", message=f"check type {job.spec.type!r} is not supported yet"
        )
    try:
        spec = opened_spec(job.spec, job.organization_id, job.monitor_id, deps.secrets_key)
    except UnopenedSecret as exc:
        return Outcome.down("config", str(exc), started)
    try:
        # The monitor's timeout bounds the whole check, redirects included.
        async with asyncio.timeout(spec.timeout):
            return await check.run(spec, deps.checks)
    except TimeoutError:
        return Outcome.down("timeout", f"no answer within {spec.timeout:g} s", started)
    except Exception as exc:
        # A check that cannot run is a failed check with a reason, never a crash:
        # a crashed job is retried, dead-lettered and the monitor never judged.
        log.warning("check.crashed", monitor_id=job.monitor_id, check=spec.type, exc_info=True)
        reason = f"the check could not run: {type(exc).__name__}: {exc}"
        return Outcome.down("check_error", reason, started)
