"""Maintenance windows: create, list, read, change, activate, deactivate, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter
from phoenix_contracts.identity import Principal
from phoenix_contracts.maintenance import (
    MAINTENANCE,
    ActivateMaintenanceWindow,
    CreateMaintenanceWindow,
    DeactivateMaintenanceWindow,
    DeleteMaintenanceWindow,
    MaintenanceSpec,
    UpdateMaintenanceWindow,
)
from phoenix_platform.maintenance import in_force

from phoenix_gateway.api.commands import CommandBus
from phoenix_gateway.api.pages import Cursor, Page, UuidText, page_of
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.readmodel.queries import ReadModel

Id = UuidText


class MaintenanceWindowCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    strategy: Literal["manual", "single", "recurring", "cron"] = "manual"
    start_at: datetime | None = None
    end_at: datetime | None = None
    weekdays: Annotated[
        list[Annotated[int, msgspec.Meta(ge=0, le=6)]], msgspec.Meta(max_length=7)
    ] = msgspec.field(default_factory=list)
    start_time: Annotated[str, msgspec.Meta(max_length=5)] = ""
    cron: Annotated[str, msgspec.Meta(max_length=120)] = ""
    duration_seconds: Annotated[int, msgspec.Meta(ge=60, le=604_800)] = 3600
    timezone: Annotated[str, msgspec.Meta(max_length=64)] = "UTC"
    monitor_ids: Annotated[list[Id], msgspec.Meta(max_length=1000)] = msgspec.field(
        default_factory=list
    )


class MaintenanceWindow(MaintenanceWindowCreate, kw_only=True):
    id: str
    active: bool
    in_force: bool  # covers its monitors right now
    created_at: datetime
    updated_at: datetime


def to_window(row: dict[str, Any]) -> MaintenanceWindow:
    spec = msgspec.convert(row["spec"], MaintenanceSpec)
    fields = {f: getattr(spec, f) for f in MaintenanceWindowCreate.__struct_fields__}
    return MaintenanceWindow(
        id=str(row["id"]),
        active=row["active"],
        in_force=in_force(spec, row["active"], datetime.now(UTC)),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        **fields,
    )


class MaintenanceController(Controller):
    path = "/api/v1/maintenance-windows"

    @post("/", status_code=201)
    async def create(
        self,
        data: MaintenanceWindowCreate,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> MaintenanceWindow:
        spec = msgspec.convert(msgspec.to_builtins(data), MaintenanceSpec)
        accepted = await commands.send(
            MAINTENANCE,
            CreateMaintenanceWindow(organization_id=principal.organization_id, spec=spec),
        )
        return await _read(read_model, principal, accepted.aggregate_id)

    @get("/")
    async def list_windows(
        self,
        principal: Principal,
        read_model: ReadModel,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
        cursor: Cursor = None,
    ) -> Page[MaintenanceWindow]:
        rows = await read_model.list(
            "maintenance", principal.organization_id, limit=limit + 1, after=cursor
        )
        return page_of([to_window(r) for r in rows], limit)

    @get("/{window_id:uuid}")
    async def get_window(
        self, window_id: Any, principal: Principal, read_model: ReadModel
    ) -> MaintenanceWindow:
        return await _read(read_model, principal, str(window_id))

    @patch("/{window_id:uuid}")
    async def update(
        self,
        window_id: Any,
        data: MaintenanceWindowCreate,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> MaintenanceWindow:
        """Replaces the window's schedule and monitors (send the whole window)."""
        spec = msgspec.convert(msgspec.to_builtins(data), MaintenanceSpec)
        await commands.send(
            MAINTENANCE,
            UpdateMaintenanceWindow(
                organization_id=principal.organization_id,
                window_id=str(window_id),
                spec=spec,
            ),
        )
        return await _read(read_model, principal, str(window_id))

    @post("/{window_id:uuid}/activate", status_code=200)
    async def activate(
        self, window_id: Any, principal: Principal, commands: CommandBus, read_model: ReadModel
    ) -> MaintenanceWindow:
        await commands.send(
            MAINTENANCE,
            ActivateMaintenanceWindow(
                organization_id=principal.organization_id,
                window_id=str(window_id),
            ),
        )
        return await _read(read_model, principal, str(window_id))

    @post("/{window_id:uuid}/deactivate", status_code=200)
    async def deactivate(
        self, window_id: Any, principal: Principal, commands: CommandBus, read_model: ReadModel
    ) -> MaintenanceWindow:
        await commands.send(
            MAINTENANCE,
            DeactivateMaintenanceWindow(
                organization_id=principal.organization_id,
                window_id=str(window_id),
            ),
        )
        return await _read(read_model, principal, str(window_id))

    @delete("/{window_id:uuid}", status_code=204)
    async def remove(self, window_id: Any, principal: Principal, commands: CommandBus) -> None:
        await commands.send(
            MAINTENANCE,
            DeleteMaintenanceWindow(
                organization_id=principal.organization_id,
                window_id=str(window_id),
            ),
        )


async def _read(read_model: ReadModel, principal: Principal, window_id: str) -> MaintenanceWindow:
    row = await read_model.get("maintenance", principal.organization_id, window_id)
    if row is None:
        raise Problem(404, "maintenance window not found")
    return to_window(row)
