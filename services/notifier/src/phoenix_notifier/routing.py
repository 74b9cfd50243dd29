"""The notifier's projection: channels, rules and monitors, and the jobs status changes cause.

Jobs are published inside the projection's transaction, keyed by
(status event, rule, channel). If the transaction fails after a publish, the
replay publishes the same key again: the stream's duplicate window drops it,
and the delivery log catches anything later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import msgspec
from phoenix_contracts.base import Event
from phoenix_contracts.health import (
    CertificateExpiring,
    HealthEvent,
    MonitorFlappingChanged,
    MonitorStatusChanged,
)
from phoenix_contracts.monitors import MonitorCreated, MonitorDeleted, MonitorUpdated
from phoenix_contracts.notifications import (
    AlertRuleCreated,
    AlertRuleDeleted,
    AlertRuleSpec,
    AlertRuleUpdated,
    ChannelCreated,
    ChannelDeleted,
    ChannelUpdated,
    MonitorRef,
    NotificationJob,
)
from phoenix_platform.logging import get_logger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from phoenix_notifier.rules import alert_event_of, delivery_key, describe, rule_matches

log = get_logger(__name__)

_SQL = {
    ChannelCreated: (
        "insert into channels (id, organization_id, type, config)"
        " values (:id, :org, :type, cast(:config as jsonb))"
        " on conflict (id) do update set config = excluded.config"
    ),
    ChannelDeleted: "delete from channels where id = :id",
    AlertRuleCreated: (
        "insert into alert_rules (id, organization_id, spec)"
        " values (:id, :org, cast(:spec as jsonb))"
        " on conflict (id) do update set spec = excluded.spec"
    ),
    AlertRuleDeleted: "delete from alert_rules where id = :id",
    MonitorCreated: (
        "insert into monitors (id, organization_id, name, url, tag_ids)"
        " values (:id, :org, :name, :url, cast(:tags as jsonb)) on conflict (id) do update"
        " set name = excluded.name, url = excluded.url, tag_ids = excluded.tag_ids"
    ),
    MonitorDeleted: "delete from monitors where id = :id",
}
_SQL[MonitorUpdated] = _SQL[MonitorCreated]
_SQL[ChannelUpdated] = _SQL[ChannelCreated]
_SQL[AlertRuleUpdated] = _SQL[AlertRuleCreated]


def _params(event: Event) -> dict[str, object]:
    params: dict[str, object] = {"id": event.aggregate_id, "org": event.organization_id}
    match event:
        case ChannelCreated(spec=spec) | ChannelUpdated(spec=spec):
            params |= {"type": spec.type, "config": msgspec.json.encode(spec.config).decode()}
        case AlertRuleCreated(spec=spec) | AlertRuleUpdated(spec=spec):
            params["spec"] = msgspec.json.encode(spec).decode()
        case MonitorCreated(spec=spec) | MonitorUpdated(spec=spec):
            params |= {
                "name": spec.name,
                "url": spec.url,
                "tags": msgspec.json.encode(spec.tag_ids).decode(),
            }
    return params


class RoutingProjection:
    name = "notifier-routing"

    def __init__(
        self, publish: Callable[[NotificationJob], Awaitable[None]], max_age: timedelta
    ) -> None:
        self._publish = publish
        self._max_age = max_age

    async def apply(self, conn: AsyncConnection, event: Event, sequence: int) -> None:
        if isinstance(event, MonitorStatusChanged | MonitorFlappingChanged | CertificateExpiring):
            await self._route(conn, event)
        elif (statement := _SQL.get(type(event))) is not None:
            await conn.execute(text(statement), _params(event))

    async def _route(self, conn: AsyncConnection, change: HealthEvent) -> None:
        kind = alert_event_of(change)
        if kind is None:
            return
        if datetime.now(UTC) - change.occurred_at > self._max_age:
            log.warning("alert.too_old_to_send", monitor_id=change.monitor_id, event=kind)
            return
        monitor = (
            await conn.execute(
                text("select name, url, tag_ids from monitors where id = :id"),
                {"id": change.monitor_id},
            )
        ).one_or_none()
        if monitor is None:
            return
        rules = (
            await conn.execute(
                text("select id, spec from alert_rules where organization_id = :org"),
                {"org": change.organization_id},
            )
        ).all()
        channels = {
            str(row.id): row.type
            for row in await conn.execute(
                text("select id, type from channels where organization_id = :org"),
                {"org": change.organization_id},
            )
        }
        ref = MonitorRef(id=change.monitor_id, name=monitor.name, url=monitor.url)
        for rule_id, raw_spec in rules:
            spec = msgspec.convert(raw_spec, AlertRuleSpec)
            if not rule_matches(spec, kind, change.monitor_id, list(monitor.tag_ids)):
                continue
            for channel_id in spec.notification_channel_ids:
                if channel_id in channels:
                    await self._enqueue(
                        conn, change, kind, str(rule_id), channel_id, channels[channel_id], ref
                    )

    async def _enqueue(
        self,
        conn: AsyncConnection,
        change: HealthEvent,
        kind: str,
        rule_id: str,
        channel_id: str,
        channel_type: str,
        monitor: MonitorRef,
    ) -> None:
        key = delivery_key(change.event_id, rule_id, channel_id)
        await conn.execute(
            text(
                "insert into deliveries"
                " (key, organization_id, channel_id, monitor_id, event, status)"
                " values (:k, :org, :c, :m, :e, 'pending') on conflict do nothing"
            ),
            {
                "k": key,
                "org": change.organization_id,
                "c": channel_id,
                "m": change.monitor_id,
                "e": kind,
            },
        )
        status, previous, reason = describe(change)
        await self._publish(
            NotificationJob(
                key=key,
                organization_id=change.organization_id,
                channel_id=channel_id,
                channel_type=channel_type,  # type: ignore[arg-type]
                alert_rule_id=rule_id,
                event=kind,  # type: ignore[arg-type]
                monitor=monitor,
                status=status,
                previous_status=previous,
                reason=reason,
                occurred_at=change.occurred_at,
                cause_event_id=change.event_id,
            )
        )
