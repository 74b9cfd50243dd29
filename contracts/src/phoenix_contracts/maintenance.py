"""Maintenance family: windows in which monitors are expected to be down.

While a window covers a monitor, its status is ``maintenance`` and nothing
is alerted. Owned by the config role.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

import msgspec

from phoenix_contracts.base import Event, Message

MAINTENANCE = "maintenance"

Strategy = Literal["manual", "single", "recurring", "cron"]


class MaintenanceSpec(msgspec.Struct, frozen=True, kw_only=True):
    """When the window applies. Times of ``recurring`` and ``cron`` are local to ``timezone``.

    - ``manual``: while activated;
    - ``single``: from ``start_at`` to ``end_at``;
    - ``recurring``: every day in ``weekdays`` (0 = Monday; empty = every day)
      from ``start_time`` (``HH:MM``) for ``duration_seconds``;
    - ``cron``: from each time ``cron`` (5 fields) fires, for ``duration_seconds``.
    """

    title: str
    description: str = ""
    strategy: Strategy = "manual"
    start_at: datetime | None = None
    end_at: datetime | None = None
    weekdays: list[int] = msgspec.field(default_factory=list)
    start_time: str = ""
    cron: str = ""
    duration_seconds: int = 3600
    timezone: str = "UTC"
    monitor_ids: list[str] = msgspec.field(default_factory=list)


class MaintenanceWindowCreated(Event, frozen=True, kw_only=True, tag="maintenance.created"):
    """Scheduled windows start enabled; a manual one starts inactive."""

    aggregate: ClassVar[str] = MAINTENANCE
    spec: MaintenanceSpec


class MaintenanceWindowUpdated(Event, frozen=True, kw_only=True, tag="maintenance.updated"):
    aggregate: ClassVar[str] = MAINTENANCE
    spec: MaintenanceSpec


class MaintenanceWindowActivated(Event, frozen=True, kw_only=True, tag="maintenance.activated"):
    aggregate: ClassVar[str] = MAINTENANCE


class MaintenanceWindowDeactivated(Event, frozen=True, kw_only=True, tag="maintenance.deactivated"):
    aggregate: ClassVar[str] = MAINTENANCE


class MaintenanceWindowDeleted(Event, frozen=True, kw_only=True, tag="maintenance.deleted"):
    aggregate: ClassVar[str] = MAINTENANCE


MaintenanceEvent = (
    MaintenanceWindowCreated
    | MaintenanceWindowUpdated
    | MaintenanceWindowActivated
    | MaintenanceWindowDeactivated
    | MaintenanceWindowDeleted
)


class CreateMaintenanceWindow(Message, frozen=True, kw_only=True, tag="create_maintenance"):
    verb: ClassVar[str] = "create"
    organization_id: str
    spec: MaintenanceSpec
    correlation_id: str = ""


class UpdateMaintenanceWindow(Message, frozen=True, kw_only=True, tag="update_maintenance"):
    verb: ClassVar[str] = "update"
    organization_id: str
    window_id: str
    spec: MaintenanceSpec
    correlation_id: str = ""


class ActivateMaintenanceWindow(Message, frozen=True, kw_only=True, tag="activate_maintenance"):
    verb: ClassVar[str] = "activate"
    organization_id: str
    window_id: str
    correlation_id: str = ""


class DeactivateMaintenanceWindow(Message, frozen=True, kw_only=True, tag="deactivate_maintenance"):
    verb: ClassVar[str] = "deactivate"
    organization_id: str
    window_id: str
    correlation_id: str = ""


class DeleteMaintenanceWindow(Message, frozen=True, kw_only=True, tag="delete_maintenance"):
    verb: ClassVar[str] = "delete"
    organization_id: str
    window_id: str
    correlation_id: str = ""


MaintenanceCommand = (
    CreateMaintenanceWindow
    | UpdateMaintenanceWindow
    | ActivateMaintenanceWindow
    | DeactivateMaintenanceWindow
    | DeleteMaintenanceWindow
)
