"""The maintenance-window aggregate: pure decide/evolve, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import msgspec
from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.maintenance import (
    MAINTENANCE,
    ActivateMaintenanceWindow,
    CreateMaintenanceWindow,
    DeactivateMaintenanceWindow,
    DeleteMaintenanceWindow,
    MaintenanceCommand,
    MaintenanceWindowActivated,
    MaintenanceWindowCreated,
    MaintenanceWindowDeactivated,
    MaintenanceWindowDeleted,
    MaintenanceWindowUpdated,
    UpdateMaintenanceWindow,
)
from phoenix_platform.maintenance import InvalidSchedule, validate

from phoenix_gateway.config.aggregate import Aggregate, next_envelope


@dataclass(frozen=True)
class WindowState:
    exists: bool = False
    deleted: bool = False
    organization_id: str = ""
    active: bool = False
    version: int = 0


def evolve(state: WindowState, event: Event) -> WindowState:
    version = event.aggregate_version
    match event:
        case MaintenanceWindowCreated(spec=spec):
            # Scheduled windows are enabled from the start; a manual one waits for "activate".
            return WindowState(
                True, False, event.organization_id, spec.strategy != "manual", version
            )
        case MaintenanceWindowUpdated():
            return replace(state, version=version)
        case MaintenanceWindowActivated():
            return replace(state, active=True, version=version)
        case MaintenanceWindowDeactivated():
            return replace(state, active=False, version=version)
        case MaintenanceWindowDeleted():
            return replace(state, deleted=True, version=version)
    return state


WINDOWS = Aggregate(name=MAINTENANCE, initial=WindowState(), evolve=evolve)


@dataclass(frozen=True)
class Context:
    aggregate_id: str
    event_id: str
    now: datetime
    # The organization's quota (0: none) and how many windows it has now.
    max_windows: int = 0
    window_count: int = 0


def decide(state: WindowState, cmd: MaintenanceCommand, ctx: Context) -> list[Event] | Rejected:
    if isinstance(cmd, CreateMaintenanceWindow | UpdateMaintenanceWindow):
        try:
            cmd = msgspec.structs.replace(cmd, spec=validate(cmd.spec))
        except InvalidSchedule as exc:
            return Rejected(code="invalid", field=exc.field, message=str(exc))
    if isinstance(cmd, CreateMaintenanceWindow):
        if ctx.max_windows and ctx.window_count >= ctx.max_windows:
            return Rejected(
                code="quota",
                message=f"this organization has reached its limit of {ctx.max_windows}"
                " maintenance windows; delete one first, or ask the operator to raise"
                " PHOENIX_MAX_MAINTENANCE_WINDOWS",
            )
        return [MaintenanceWindowCreated(spec=cmd.spec, **next_envelope(state.version, cmd, ctx))]
    if not state.exists or state.deleted or state.organization_id != cmd.organization_id:
        return Rejected(code="not_found", message="maintenance window not found")
    env = next_envelope(state.version, cmd, ctx)
    match cmd:
        case UpdateMaintenanceWindow(spec=spec):
            return [MaintenanceWindowUpdated(spec=spec, **env)]
        case ActivateMaintenanceWindow():
            return [] if state.active else [MaintenanceWindowActivated(**env)]
        case DeactivateMaintenanceWindow():
            return [MaintenanceWindowDeactivated(**env)] if state.active else []
        case DeleteMaintenanceWindow():
            return [MaintenanceWindowDeleted(**env)]
    return Rejected(code="invalid", message="unknown command")
