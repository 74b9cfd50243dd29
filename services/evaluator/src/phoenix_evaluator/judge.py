"""The per-monitor state machine: pure, no clock, no I/O.

Per region: ``failure_threshold`` consecutive failures make the region's
verdict ``down`` (one blip pages nobody); ``recovery_threshold`` consecutive
successes bring it back; a region's first success makes it ``up``. A result
not newer than the last one applied for its region is ignored (redelivery can
reorder).

Per monitor: ``down`` when at least ``quorum`` regions say down; otherwise
``up`` once any region says up (``degraded`` when the success was slower than
``degraded_after_ms``). A recovery is only ever a move out of ``down``.
Too many changes inside the flap window mark the monitor flapping: one notice
instead of a storm. Certificate warnings fire once per threshold per
certificate. "Now" is the result's finish time, so replays judge the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.monitors import MonitorSpec, MonitorStatus

Verdict = Literal["pending", "up", "down"]
DAY = timedelta(days=1)


@dataclass(frozen=True)
class RegionState:
    verdict: Verdict = "pending"
    failures: int = 0
    successes: int = 0
    last_due_at: datetime | None = None


@dataclass(frozen=True)
class Policy:
    failure: int = 3
    recovery: int = 2
    quorum: int = 1
    degraded_after_ms: int | None = None
    flap_window: timedelta = timedelta(minutes=10)
    flap_changes: int = 5
    cert_warning_days: tuple[int, ...] = (30, 14, 7, 1)

    @classmethod
    def of(cls, spec: MonitorSpec) -> Policy:
        return cls(
            failure=spec.failure_threshold,
            recovery=spec.recovery_threshold,
            quorum=max(1, min(spec.quorum, len(spec.regions) or 1)),
            degraded_after_ms=spec.degraded_after_ms,
            cert_warning_days=tuple(sorted(set(spec.cert_warning_days), reverse=True)),
        )


@dataclass(frozen=True)
class Health:
    status: MonitorStatus = "pending"
    regions: dict[str, RegionState] = field(default_factory=dict)  # replaced, never mutated
    recent_changes: tuple[datetime, ...] = ()
    flapping: bool = False
    incident_id: str | None = None
    incident_started_at: datetime | None = None
    cert_expires_at: datetime | None = None
    cert_warned: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Change:
    status: MonitorStatus
    previous: MonitorStatus
    reason: str
    region: str
    flapping: bool
    incident_id: str | None  # the incident this change opens or resolves
    opens_incident: bool
    resolves_incident: bool
    incident_started_at: datetime | None


@dataclass(frozen=True)
class FlappingChanged:
    flapping: bool
    changes: int


@dataclass(frozen=True)
class CertificateWarning:
    expires_at: datetime
    days_left: int
    threshold: int
    issuer: str | None


Decision = Change | FlappingChanged | CertificateWarning


def judge(
    health: Health, result: CheckCompleted, policy: Policy, new_incident_id: str
) -> tuple[Health, list[Decision]]:
    if result.outcome == "skipped":
        return health, []
    region = health.regions.get(result.region, RegionState())
    if region.last_due_at is not None and result.due_at <= region.last_due_at:
        return health, []
    health = replace(
        health, regions={**health.regions, result.region: _region(region, result, policy)}
    )
    decisions: list[Decision] = []
    status = _monitor_status(health, result, policy)
    if status != health.status:
        health, change = _change(health, status, result, policy, new_incident_id)
        decisions.append(change)
    health, flap = _flapping(health, result.finished_at, policy)
    decisions.extend(flap)
    health, warnings = _certificate(health, result, policy)
    decisions.extend(warnings)
    return health, decisions


def enter_maintenance(health: Health, result: CheckCompleted) -> tuple[Health, list[Decision]]:
    """A result inside a maintenance window: the monitor is in maintenance, nothing counts.

    An open incident is resolved (the outage is now planned work), and streaks
    start afresh when the window ends.
    """
    quiet = replace(
        health, regions={}, recent_changes=(), incident_id=None, incident_started_at=None
    )
    if health.status == "maintenance":
        return quiet, []
    resolves = health.incident_id is not None
    change = Change(
        status="maintenance",
        previous=health.status,
        reason="maintenance window",
        region=result.region,
        flapping=False,
        incident_id=health.incident_id,
        opens_incident=False,
        resolves_incident=resolves,
        incident_started_at=health.incident_started_at,
    )
    return replace(quiet, status="maintenance", flapping=False), [change]


def _region(state: RegionState, result: CheckCompleted, policy: Policy) -> RegionState:
    if result.outcome == "up":
        successes = state.successes + 1
        recovered = state.verdict == "down" and successes >= policy.recovery
        verdict: Verdict = "up" if state.verdict == "pending" or recovered else state.verdict
        return RegionState(verdict, 0, successes, result.due_at)
    failures = state.failures + 1
    verdict = "down" if failures >= policy.failure else state.verdict
    return RegionState(verdict, failures, 0, result.due_at)


def _monitor_status(health: Health, result: CheckCompleted, policy: Policy) -> MonitorStatus:
    verdicts = [r.verdict for r in health.regions.values()]
    if verdicts.count("down") >= policy.quorum:
        return "down"
    if "up" not in verdicts:
        return health.status if health.status != "down" else "down"
    if result.outcome != "up":  # an unconfirmed failure keeps the current verdict
        return health.status if health.status in ("up", "degraded") else "up"
    slow = (
        policy.degraded_after_ms is not None and result.timings.total_ms > policy.degraded_after_ms
    )
    return "degraded" if slow else "up"


def _change(
    health: Health, status: MonitorStatus, result: CheckCompleted, policy: Policy, new_id: str
) -> tuple[Health, Change]:
    now = result.finished_at
    opens = status == "down"
    resolves = health.status == "down" and health.incident_id is not None
    incident_id = new_id if opens else health.incident_id if resolves else None
    recent = (*(t for t in health.recent_changes if now - t < policy.flap_window), now)
    change = Change(
        status=status,
        previous=health.status,
        reason=_reason(result),
        region=result.region,
        flapping=health.flapping or len(recent) >= policy.flap_changes,
        incident_id=incident_id,
        opens_incident=opens,
        resolves_incident=resolves,
        incident_started_at=health.incident_started_at if resolves else now,
    )
    return replace(
        health,
        status=status,
        recent_changes=recent,
        incident_id=new_id if opens else None if resolves else health.incident_id,
        incident_started_at=now if opens else None if resolves else health.incident_started_at,
    ), change


def _flapping(health: Health, now: datetime, policy: Policy) -> tuple[Health, list[Decision]]:
    recent = tuple(t for t in health.recent_changes if now - t < policy.flap_window)
    if not health.flapping and len(recent) >= policy.flap_changes:
        return replace(health, flapping=True, recent_changes=recent), [
            FlappingChanged(True, len(recent))
        ]
    if health.flapping and not recent:
        return replace(health, flapping=False, recent_changes=recent), [FlappingChanged(False, 0)]
    return replace(health, recent_changes=recent), []


def _certificate(
    health: Health, result: CheckCompleted, policy: Policy
) -> tuple[Health, list[Decision]]:
    expires = result.cert_expires_at
    if expires is None:
        return health, []
    warned = health.cert_warned if expires == health.cert_expires_at else frozenset()
    days_left = (expires - result.finished_at) // DAY
    crossed = {t for t in policy.cert_warning_days if days_left <= t} - warned
    health = replace(health, cert_expires_at=expires, cert_warned=warned | crossed)
    if not crossed:
        return health, []
    # Seen for the first time at 5 days left: one warning (the 7-day one), not three.
    return health, [CertificateWarning(expires, int(days_left), min(crossed), result.cert_issuer)]


def _reason(result: CheckCompleted) -> str:
    reason = result.message or result.outcome
    return f"{result.error_class}: {reason}" if result.error_class else reason
