"""Which monitors are scheduled, folded from monitor events (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from phoenix_contracts.base import Event
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.monitors import (
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorSpec,
    MonitorStatus,
    MonitorUpdated,
)


@dataclass(frozen=True)
class Scheduled:
    monitor_id: str
    organization_id: str
    spec: MonitorSpec
    paused: bool = False
    generation: int = 0  # bumps on every change: stale timer entries are ignored
    status: MonitorStatus = "pending"

    @property
    def active(self) -> bool:
        return not self.paused

    @property
    def push(self) -> bool:
        return self.spec.type == "push"


def evolve(current: Scheduled | None, event: Event) -> Scheduled | None:
    match event:
        case MonitorStatusChanged(status=status) if current:
            return replace(current, status=status)  # same generation: timing is unchanged
        case MonitorCreated(spec=spec):
            return Scheduled(event.aggregate_id, event.organization_id, spec)
        case MonitorUpdated(spec=spec) if current:
            return replace(current, spec=spec, generation=current.generation + 1)
        case MonitorPaused() if current:
            return replace(current, paused=True, generation=current.generation + 1)
        case MonitorResumed() if current:
            return replace(current, paused=False, generation=current.generation + 1)
        case MonitorDeleted():
            return None
    return current
