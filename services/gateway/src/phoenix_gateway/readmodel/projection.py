"""The gateway's read model: monitors with their current status, channels, rules."""

from __future__ import annotations

import msgspec
from phoenix_contracts.base import Event
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.maintenance import (
    MaintenanceWindowActivated,
    MaintenanceWindowCreated,
    MaintenanceWindowDeactivated,
    MaintenanceWindowDeleted,
    MaintenanceWindowUpdated,
)
from phoenix_contracts.monitors import (
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorUpdated,
)
from phoenix_contracts.notifications import (
    AlertRuleCreated,
    AlertRuleDeleted,
    ChannelCreated,
    ChannelDeleted,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


# Every statement is idempotent (upsert / guarded by version), so replaying a
# batch after a crash between apply and checkpoint changes nothing.
_STATEMENTS = {
    MonitorCreated: (
        "insert into monitors (id, organization_id, spec, version, created_at, updated_at)"
        " values (:id, :org, cast(:spec as jsonb), :v, :t, :t) on conflict (id) do nothing"
    ),
    MonitorUpdated: (
        "update monitors set spec = cast(:spec as jsonb), version = :v, updated_at = :t"
        " where id = :id and version < :v"
    ),
    MonitorPaused: (
        "update monitors set paused = true, status = 'paused', version = :v, updated_at = :t"
        " where id = :id and version < :v"
    ),
    MonitorResumed: (
        "update monitors set paused = false, status = 'pending', version = :v, updated_at = :t"
        " where id = :id and version < :v"
    ),
    MonitorDeleted: "delete from monitors where id = :id",
    MaintenanceWindowCreated: (
        "insert into maintenance_windows (id, organization_id, spec, active, version,"
        " created_at, updated_at) values (:id, :org, cast(:spec as jsonb), :active, :v, :t, :t)"
        " on conflict (id) do nothing"
    ),
    MaintenanceWindowUpdated: (
        "update maintenance_windows set spec = cast(:spec as jsonb), version = :v,"
        " updated_at = :t where id = :id and version < :v"
    ),
    MaintenanceWindowActivated: (
        "update maintenance_windows set active = true, version = :v, updated_at = :t"
        " where id = :id and version < :v"
    ),
    MaintenanceWindowDeactivated: (
        "update maintenance_windows set active = false, version = :v, updated_at = :t"
        " where id = :id and version < :v"
    ),
    MaintenanceWindowDeleted: "delete from maintenance_windows where id = :id",
    ChannelDeleted: "delete from notification_channels where id = :id",
    AlertRuleDeleted: "delete from alert_rules where id = :id",
}


class ReadModelProjection:
    name = "gateway-read-model"

    async def apply(self, conn: AsyncConnection, event: Event, sequence: int) -> None:
        params: dict[str, object] = {
            "id": event.aggregate_id,
            "org": event.organization_id,
            "v": event.aggregate_version,
            "t": event.occurred_at,
        }
        match event:
            case MonitorCreated(spec=spec) | MonitorUpdated(spec=spec):
                params["spec"] = _json(spec)
            case MaintenanceWindowCreated(spec=window) | MaintenanceWindowUpdated(spec=window):
                params |= {"spec": _json(window), "active": window.strategy != "manual"}
            case MonitorStatusChanged():
                await conn.execute(
                    text(
                        "update monitors set status = :s, status_reason = :r,"
                        " status_changed_at = :t where id = :id and not paused"
                    ),
                    {
                        "s": event.status,
                        "r": event.reason,
                        "t": event.occurred_at,
                        "id": event.monitor_id,
                    },
                )
                return
            case ChannelCreated(spec=spec):
                await conn.execute(
                    text(
                        "insert into notification_channels (id, organization_id, name, type,"
                        " config, is_default, created_at) values (:id, :org, :n, :ty,"
                        " cast(:c as jsonb), :d, :t) on conflict (id) do nothing"
                    ),
                    {
                        **params,
                        "n": spec.name,
                        "ty": spec.type,
                        "c": _json(spec.config),
                        "d": spec.is_default,
                    },
                )
                return
            case AlertRuleCreated(spec=spec):
                await conn.execute(
                    text(
                        "insert into alert_rules (id, organization_id, spec, created_at)"
                        " values (:id, :org, cast(:spec as jsonb), :t) on conflict (id) do nothing"
                    ),
                    {**params, "spec": _json(spec)},
                )
                return
        statement = _STATEMENTS.get(type(event))
        if statement is not None:
            await conn.execute(text(statement), params)
