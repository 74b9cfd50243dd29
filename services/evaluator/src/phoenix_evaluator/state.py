"""What the evaluator knows, rebuilt from the event log on every start."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from phoenix_contracts.base import Event
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.monitors import (
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorSpec,
    MonitorUpdated,
)

from phoenix_evaluator.judge import Health, Thresholds


@dataclass(frozen=True)
class Watched:
    organization_id: str
    spec: MonitorSpec
    paused: bool = False
    health: Health = field(default_factory=Health)
    health_sequence: int = 0  # last stream sequence on this monitor's health subject
    health_version: int = 0

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            failure=self.spec.failure_threshold, recovery=self.spec.recovery_threshold
        )


@dataclass
class EvaluatorState:
    monitors: dict[str, Watched] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)

    def apply(self, event: Event, sequence: int) -> None:
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
            case MonitorStatusChanged() if current and sequence > current.health_sequence:
                self.monitors[event.aggregate_id] = replace(
                    current,
                    health=replace(current.health, status=event.status),
                    health_sequence=sequence,
                    health_version=event.aggregate_version,
                )
