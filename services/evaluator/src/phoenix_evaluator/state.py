"""What the evaluator knows, rebuilt from the event log on every start."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from phoenix_contracts.base import Event
from phoenix_contracts.health import (
    CertificateExpiring,
    MonitorFlappingChanged,
    MonitorStatusChanged,
)
from phoenix_contracts.incidents import IncidentResolved
from phoenix_contracts.monitors import (
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorSpec,
    MonitorStatus,
    MonitorUpdated,
)

from phoenix_evaluator.judge import Health, Policy, RegionState, Verdict
from phoenix_evaluator.windows import MAINTENANCE_EVENTS, MaintenanceWindows


@dataclass(frozen=True)
class Watched:
    organization_id: str
    spec: MonitorSpec
    paused: bool = False
    health: Health = field(default_factory=Health)
    health_sequence: int = 0  # last stream sequence on this monitor's health subject
    health_version: int = 0

    @property
    def policy(self) -> Policy:
        return Policy.of(self.spec)


def _regions_after_restart(spec: MonitorSpec, status: MonitorStatus) -> dict[str, RegionState]:
    # Counters are not in the log; a monitor rebuilt as down must still need
    # recovery_threshold successes, so every region starts from the verdict.
    verdict: Verdict = (
        "down" if status == "down" else "up" if status in ("up", "degraded") else "pending"
    )
    return {region: RegionState(verdict=verdict) for region in spec.regions}


@dataclass
class EvaluatorState:
    monitors: dict[str, Watched] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    windows: MaintenanceWindows = field(default_factory=MaintenanceWindows)

    def in_maintenance(self, monitor_id: str, organization_id: str, at: datetime) -> bool:
        return self.windows.in_maintenance(monitor_id, organization_id, at)

    def apply(self, event: Event, sequence: int) -> None:
        if isinstance(event, MAINTENANCE_EVENTS):
            self.windows.apply(event)
            return
        if isinstance(event, IncidentResolved):
            self._forget_incident(event)
            return
        current = self.monitors.get(event.aggregate_id)
        match event:
            case MonitorCreated(spec=spec):
                self.monitors[event.aggregate_id] = Watched(event.organization_id, spec)
            case MonitorUpdated(spec=spec) if current:
                self.monitors[event.aggregate_id] = replace(current, spec=spec)
            case MonitorPaused() if current:
                self.monitors[event.aggregate_id] = replace(current, paused=True)
            case MonitorResumed() if current:
                # After a pause the old verdict is stale: judge afresh.
                self.monitors[event.aggregate_id] = replace(current, paused=False, health=Health())
            case MonitorDeleted():
                self.monitors.pop(event.aggregate_id, None)
                self.deleted.add(event.aggregate_id)
            case MonitorStatusChanged() | MonitorFlappingChanged() | CertificateExpiring() if (
                current and sequence > current.health_sequence
            ):
                self.monitors[event.aggregate_id] = replace(
                    current,
                    health=_evolve_health(current.health, current.spec, event),
                    health_sequence=sequence,
                    health_version=event.aggregate_version,
                )

    def _forget_incident(self, event: IncidentResolved) -> None:
        # Resolved by hand (or by us): the next recovery must not resolve it again.
        watched = self.monitors.get(event.monitor_id)
        if watched is not None and watched.health.incident_id == event.aggregate_id:
            self.monitors[event.monitor_id] = replace(
                watched,
                health=replace(watched.health, incident_id=None, incident_started_at=None),
            )


def _evolve_health(health: Health, spec: MonitorSpec, event: Event) -> Health:
    match event:
        case MonitorStatusChanged():
            opened = event.status == "down"
            return replace(
                health,
                status=event.status,
                regions=_regions_after_restart(spec, event.status),
                flapping=event.flapping,
                incident_id=event.incident_id if opened else None,
                incident_started_at=event.occurred_at if opened else None,
            )
        case MonitorFlappingChanged():
            return replace(health, flapping=event.flapping)
        case CertificateExpiring():
            warned = (
                health.cert_warned if health.cert_expires_at == event.expires_at else frozenset()
            )
            return replace(
                health,
                cert_expires_at=event.expires_at,
                cert_warned=warned
                | {t for t in Policy.of(spec).cert_warning_days if event.days_left <= t},
            )
    return health
