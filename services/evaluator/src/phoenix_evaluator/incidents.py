"""The incident aggregate: pure decide/evolve for the people's commands, no I/O.

The evaluator opens and (on recovery) resolves incidents; people acknowledge,
add updates and resolve by hand. All of it goes through one writer: here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.incidents import (
    INCIDENT,
    AcknowledgeIncident,
    AddIncidentUpdate,
    IncidentAcknowledged,
    IncidentCommand,
    IncidentOpened,
    IncidentResolved,
    IncidentUpdateAdded,
    ResolveIncident,
)
from phoenix_platform.commands import Aggregate, next_envelope

Status = Literal["none", "open", "acknowledged", "resolved"]


@dataclass(frozen=True)
class IncidentState:
    status: Status = "none"
    organization_id: str = ""
    monitor_id: str = ""
    started_at: datetime | None = None
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in ("open", "acknowledged")


def evolve(state: IncidentState, event: Event) -> IncidentState:
    version = event.aggregate_version
    match event:
        case IncidentOpened():
            return IncidentState(
                "open", event.organization_id, event.monitor_id, event.started_at, version
            )
        case IncidentAcknowledged():
            status: Status = "acknowledged" if state.is_open else state.status
            return replace(state, status=status, version=version)
        case IncidentResolved():
            return replace(state, status="resolved", version=version)
        case IncidentUpdateAdded():
            return replace(state, version=version)
    return state


INCIDENTS = Aggregate(name=INCIDENT, initial=IncidentState(), evolve=evolve)


@dataclass(frozen=True)
class Context:
    aggregate_id: str
    event_id: str
    now: datetime


def decide(state: IncidentState, cmd: IncidentCommand, ctx: Context) -> list[Event] | Rejected:
    if state.status == "none" or state.organization_id != cmd.organization_id:
        return Rejected(code="not_found", message="incident not found")
    env = next_envelope(state.version, cmd, ctx)
    match cmd:
        case AcknowledgeIncident():
            if state.status != "open":
                return []  # already acknowledged, or over: nothing to do
            return [
                IncidentAcknowledged(
                    **env, monitor_id=state.monitor_id, by_user_id=cmd.user_id, note=cmd.note
                )
            ]
        case ResolveIncident():
            if not state.is_open:
                return []
            started = state.started_at or ctx.now
            return [
                IncidentResolved(
                    **env,
                    monitor_id=state.monitor_id,
                    resolved_at=ctx.now,
                    duration_seconds=max((ctx.now - started).total_seconds(), 0.0),
                    note=cmd.note,
                    by_user_id=cmd.user_id,
                )
            ]
        case AddIncidentUpdate():
            if not state.is_open:
                return Rejected(
                    code="conflict", message="the incident is resolved; updates are closed"
                )
            return [
                IncidentUpdateAdded(
                    **env, monitor_id=state.monitor_id, by_user_id=cmd.user_id, message=cmd.message
                )
            ]
    return Rejected(code="invalid", message="unknown command")
