"""The per-monitor state machine: pure, no clock, no I/O.

``pending`` → ``up`` on the first success; ``pending``/``up`` → ``down`` after
``failure_threshold`` consecutive failures (one blip pages nobody);
``down`` → ``up`` after ``recovery_threshold`` consecutive successes. A result
not newer than the last one applied is ignored: redelivery can reorder.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.monitors import MonitorStatus


@dataclass(frozen=True)
class Health:
    status: MonitorStatus = "pending"
    failures: int = 0
    successes: int = 0
    last_due_at: datetime | None = None


@dataclass(frozen=True)
class Change:
    status: MonitorStatus
    previous: MonitorStatus
    reason: str


@dataclass(frozen=True)
class Thresholds:
    failure: int = 3
    recovery: int = 2


def judge(
    health: Health, result: CheckCompleted, thresholds: Thresholds
) -> tuple[Health, Change | None]:
    if result.outcome == "skipped":
        return health, None
    if health.last_due_at is not None and result.due_at <= health.last_due_at:
        return health, None
    if result.outcome == "up":
        seen = replace(
            health, successes=health.successes + 1, failures=0, last_due_at=result.due_at
        )
        recovered = health.status == "down" and seen.successes >= thresholds.recovery
        if health.status == "pending" or recovered:
            return _move(seen, "up", result)
        return seen, None
    seen = replace(health, failures=health.failures + 1, successes=0, last_due_at=result.due_at)
    if health.status in ("pending", "up", "degraded") and seen.failures >= thresholds.failure:
        return _move(seen, "down", result)
    return seen, None


def _move(health: Health, status: MonitorStatus, result: CheckCompleted) -> tuple[Health, Change]:
    reason = result.message or result.outcome
    if result.error_class:
        reason = f"{result.error_class}: {reason}"
    return replace(health, status=status), Change(
        status=status, previous=health.status, reason=reason
    )
