"""The gateway's read model: monitors with their current status, channels, rules,
incidents with their timeline, tags, status pages."""

from __future__ import annotations

import msgspec
from phoenix_contracts.base import Event
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.incidents import (
    IncidentAcknowledged,
    IncidentOpened,
    IncidentResolved,
    IncidentUpdateAdded,
)
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
    AlertRuleUpdated,
    ChannelCreated,
    ChannelDeleted,
    ChannelUpdated,
)
from phoenix_contracts.statuspages import (
    StatusPageCreated,
    StatusPageDeleted,
    StatusPageMonitorsSet,
    StatusPageUpdated,
)
from phoenix_contracts.tags import TagCreated, TagDeleted, TagUpdated
from phoenix_platform.rebuild import ProjectionSpec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from phoenix_gateway.readmodel import deliveries
from phoenix_gateway.readmodel.statuspages import apply_status_page


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
    TagDeleted: "delete from tags where id = :id",
}

_TIMELINE = (
    "insert into incident_updates (event_id, incident_id, at, kind, message, by_user_id)"
    " values (:e, :i, :t, :k, :m, :u) on conflict (event_id) do nothing"
)
_INCIDENT_STATEMENTS = {
    IncidentOpened: (
        "insert into incidents (id, organization_id, monitor_id, title, cause, status,"
        " started_at, updated_at) values (:id, :org, :mon, :title, :cause, 'open', :started, :t)"
        " on conflict (id) do nothing"
    ),
    IncidentAcknowledged: (
        "update incidents set status = 'acknowledged', acknowledged_at = :t, updated_at = :t"
        " where id = :id and status = 'open'"
    ),
    IncidentUpdateAdded: (
        "update incidents set updated_at = greatest(updated_at, :t) where id = :id"
    ),
    IncidentResolved: (
        "update incidents set status = 'resolved', resolved_at = :resolved,"
        " duration_seconds = :duration, updated_at = :t where id = :id and status <> 'resolved'"
    ),
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
        if isinstance(event, deliveries.DeliveryEvents):
            await deliveries.apply(conn, event)
            return
        match event:
            case MonitorCreated(spec=spec) | MonitorUpdated(spec=spec):
                params["spec"] = _json(spec)
            case MaintenanceWindowCreated(spec=window) | MaintenanceWindowUpdated(spec=window):
                params |= {"spec": _json(window), "active": window.strategy != "manual"}
            case (
                IncidentOpened()
                | IncidentAcknowledged()
                | IncidentUpdateAdded()
                | IncidentResolved()
            ):
                await _apply_incident(conn, event, params)
                return
            case (
                StatusPageCreated()
                | StatusPageUpdated()
                | StatusPageMonitorsSet()
                | StatusPageDeleted()
            ):
                await apply_status_page(conn, event, params)
                return
            case TagCreated() | TagUpdated():
                await conn.execute(
                    text(
                        "insert into tags (id, organization_id, name, color, description, version,"
                        " created_at, updated_at) values (:id, :org, :n, :c, :d, :v, :t, :t)"
                        " on conflict (id) do update set name = excluded.name,"
                        " color = excluded.color, description = excluded.description,"
                        " version = excluded.version, updated_at = excluded.updated_at"
                        " where tags.version < excluded.version"
                    ),
                    {**params, "n": event.name, "c": event.color, "d": event.description},
                )
                return
            case MonitorStatusChanged():
                if event.incident_id:
                    await conn.execute(
                        text(_TIMELINE),
                        {
                            "e": event.event_id,
                            "i": event.incident_id,
                            "t": event.occurred_at,
                            "k": "status_changed",
                            "m": f"{event.previous} → {event.status}: {event.reason}",
                            "u": "",
                        },
                    )
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
            case ChannelCreated(spec=spec) | ChannelUpdated(spec=spec):
                # An update keeps created_at: the upsert changes only the spec's columns.
                await conn.execute(
                    text(
                        "insert into notification_channels (id, organization_id, name, type,"
                        " config, is_default, created_at) values (:id, :org, :n, :ty,"
                        " cast(:c as jsonb), :d, :t) on conflict (id) do update set"
                        " name = excluded.name, config = excluded.config,"
                        " is_default = excluded.is_default"
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
            case AlertRuleCreated(spec=spec) | AlertRuleUpdated(spec=spec):
                await conn.execute(
                    text(
                        "insert into alert_rules (id, organization_id, spec, created_at)"
                        " values (:id, :org, cast(:spec as jsonb), :t) on conflict (id)"
                        " do update set spec = excluded.spec"
                    ),
                    {**params, "spec": _json(spec)},
                )
                return
        statement = _STATEMENTS.get(type(event))
        if statement is not None:
            await conn.execute(text(statement), params)


async def _apply_incident(
    conn: AsyncConnection,
    event: IncidentOpened | IncidentAcknowledged | IncidentUpdateAdded | IncidentResolved,
    params: dict[str, object],
) -> None:
    entry: dict[str, object] = {
        "e": event.event_id,
        "i": event.aggregate_id,
        "t": event.occurred_at,
        "u": "",
    }
    match event:
        case IncidentOpened():
            params |= {
                "mon": event.monitor_id,
                "title": event.title,
                "cause": event.cause,
                "started": event.started_at,
            }
            entry |= {"k": "opened", "m": event.cause}
        case IncidentAcknowledged():
            entry |= {"k": "acknowledged", "m": event.note, "u": event.by_user_id}
        case IncidentUpdateAdded():
            entry |= {"k": "update", "m": event.message, "u": event.by_user_id}
        case IncidentResolved():
            params |= {"resolved": event.resolved_at, "duration": event.duration_seconds}
            message = event.note if event.by_user_id else event.note or "recovered"
            entry |= {"k": "resolved", "m": message, "u": event.by_user_id}
    await conn.execute(text(_INCIDENT_STATEMENTS[type(event)]), params)
    await conn.execute(text(_TIMELINE), entry)


# What `phoenix projections` needs to rebuild this read model from the log.
# check_results (fed by RESULTS, not by events) is not among its tables.
SPEC = ProjectionSpec(
    name=ReadModelProjection.name,
    schema="gateway",
    migrations="phoenix_gateway.migrations",
    tables=(
        "monitors",
        "notification_channels",
        "alert_rules",
        "maintenance_windows",
        "incidents",
        "incident_updates",
        "tags",
        "status_pages",
        "deliveries",
    ),
    projection=ReadModelProjection,
)
