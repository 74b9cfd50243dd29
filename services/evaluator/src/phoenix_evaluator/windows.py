"""Maintenance windows as the evaluator holds them: indexed by whom they cover.

Asked once per check result, so the answer costs O(windows covering the
monitor), each O(1) while its cached span lasts (``phoenix_platform.maintenance.Schedule``):
windows of other organizations, or naming other monitors, are never looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from phoenix_contracts.base import Event
from phoenix_contracts.maintenance import (
    MaintenanceWindowActivated,
    MaintenanceWindowCreated,
    MaintenanceWindowDeactivated,
    MaintenanceWindowDeleted,
    MaintenanceWindowUpdated,
)
from phoenix_platform.logging import get_logger
from phoenix_platform.maintenance import Schedule

log = get_logger(__name__)

MAINTENANCE_EVENTS = (
    MaintenanceWindowCreated,
    MaintenanceWindowUpdated,
    MaintenanceWindowActivated,
    MaintenanceWindowDeactivated,
    MaintenanceWindowDeleted,
)


@dataclass(frozen=True)
class Window:
    organization_id: str
    schedule: Schedule  # compiled once per created/updated event
    active: bool


def _window_after(current: Window | None, event: Event) -> Window | None:
    match event:
        case MaintenanceWindowCreated(spec=spec):
            return Window(event.organization_id, Schedule(spec), active=spec.strategy != "manual")
        case MaintenanceWindowUpdated(spec=spec) if current:
            return replace(current, schedule=Schedule(spec))
        case MaintenanceWindowActivated() if current:
            return replace(current, active=True)
        case MaintenanceWindowDeactivated() if current:
            return replace(current, active=False)
    return None if isinstance(event, MaintenanceWindowDeleted) else current


Key = tuple[str, str | None]  # (organization, monitor); None: every monitor of it


def _keys(window: Window) -> list[Key]:
    monitor_ids: list[str | None] = [*window.schedule.spec.monitor_ids] or [None]
    return [(window.organization_id, monitor_id) for monitor_id in monitor_ids]


def _covers(window_id: str, window: Window, at: datetime) -> bool:
    # Asked for every result: a window that cannot answer must not stop the judging
    # of the monitors it names (a window that cannot even be compiled never gets
    # here: the follower parks its event), so it counts as not covering them.
    try:
        return window.schedule.covers(at)
    except Exception:
        log.exception("maintenance.window_failed", window_id=window_id)
        return False


@dataclass
class MaintenanceWindows:
    by_id: dict[str, Window] = field(default_factory=dict)
    _covering: dict[Key, dict[str, Window]] = field(default_factory=dict)

    def in_maintenance(self, monitor_id: str, organization_id: str, at: datetime) -> bool:
        """A window of the monitor's organization naming it (or naming none: all) is in force."""
        return any(
            window.active and _covers(window_id, window, at)
            for key in ((organization_id, None), (organization_id, monitor_id))
            for window_id, window in self._covering.get(key, {}).items()
        )

    def apply(self, event: Event) -> None:
        window_id = event.aggregate_id
        current = self.by_id.pop(window_id, None)
        if current is not None:
            for key in _keys(current):
                self._drop(key, window_id)
        window = _window_after(current, event)
        if window is not None:
            self.by_id[window_id] = window
            for key in _keys(window):
                self._covering.setdefault(key, {})[window_id] = window

    def _drop(self, key: Key, window_id: str) -> None:
        covering = self._covering.get(key, {})
        covering.pop(window_id, None)
        if not covering:
            self._covering.pop(key, None)
