"""The notifier's projection: channels, rules and monitors, and the jobs status changes cause.

A job is published only when its delivery row is new (``insert … returning``),
inside the projection's transaction and keyed by (status event, rule,
channel). If the transaction fails after a publish, the replay inserts and
publishes the same key again: the stream's duplicate window drops it, and a
delivery already under way has written its own row, so the insert finds it.

A "down" alert whose rule has a resend interval leaves a reminder row that
:mod:`phoenix_notifier.reminders` turns into reminders; any status other than
down (recovery, maintenance, pause) or deleting the monitor, rule or channel
removes it.
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
from phoenix_contracts.monitors import (
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorUpdated,
)
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
    NotificationQueued,
)
from phoenix_platform.logging import get_logger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from phoenix_notifier.journal import Journal, delivery_row
from phoenix_notifier.rules import alert_event_of, delivery_key, describe, targets

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


_STOP_REMINDERS = {
    MonitorPaused: "delete from reminders where monitor_id = :id",
    MonitorDeleted: "delete from reminders where monitor_id = :id",
    AlertRuleUpdated: "delete from reminders where alert_rule_id = :id",
    AlertRuleDeleted: "delete from reminders where alert_rule_id = :id",
    ChannelDeleted: "delete from reminders where channel_id = :id",
}


class RoutingProjection:
    name = "notifier-routing"

    def __init__(
        self,
        publish: Callable[[NotificationJob], Awaitable[None]],
        journal: Journal,
        max_age: timedelta,
    ) -> None:
        self._publish = publish
        self._journal = journal
        self._max_age = max_age

    async def apply(self, conn: AsyncConnection, event: Event, sequence: int) -> None:
        if (stop := _STOP_REMINDERS.get(type(event))) is not None:
            await conn.execute(text(stop), {"id": event.aggregate_id})
        if isinstance(event, MonitorStatusChanged):
            await conn.execute(
                text("update monitors set status = :s where id = :id"),
                {"s": event.status, "id": event.monitor_id},
            )
            if event.status != "down":
                await conn.execute(
                    text("delete from reminders where monitor_id = :id"), {"id": event.monitor_id}
                )
        if isinstance(event, MonitorStatusChanged | MonitorFlappingChanged | CertificateExpiring):
            await self._route(conn, event)
        elif (statement := _SQL.get(type(event))) is not None:
            await conn.execute(text(statement), _params(event))

    async def _route(self, conn: AsyncConnection, change: HealthEvent) -> None:
        kind = alert_event_of(change)
        if kind is None:
            return
        if datetime.now(UTC) - change.occurred_at > self._max_age:
            log.warning("alert.too_old_to_send", monitor_id=change.monitor_id, alert=kind)
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
        status, previous, reason = describe(change)
        incident_id = (change.incident_id or "") if isinstance(change, MonitorStatusChanged) else ""
        matching = targets(
            [(str(rule_id), msgspec.convert(spec, AlertRuleSpec)) for rule_id, spec in rules],
            kind,
            change.monitor_id,
            list(monitor.tag_ids),
            set(channels),
        )
        for target in matching:
            job = NotificationJob(
                key=delivery_key(change.event_id, target.channel_id),
                organization_id=change.organization_id,
                channel_id=target.channel_id,
                channel_type=channels[target.channel_id],
                alert_rule_id=target.alert_rule_id,
                event=kind,
                monitor=MonitorRef(id=change.monitor_id, name=monitor.name, url=monitor.url),
                status=status,
                previous_status=previous,
                reason=reason,
                occurred_at=change.occurred_at,
                cause_event_id=change.event_id,
                incident_id=incident_id,
            )
            await self.enqueue(conn, job)
            if kind == "down" and target.resend_interval > 0:
                await _remember(conn, job, target.resend_interval)

    async def enqueue(self, conn: AsyncConnection, job: NotificationJob) -> bool:
        """Log the delivery as pending and publish its job, once per key."""
        inserted = (
            await conn.execute(
                text(
                    "insert into deliveries (key, id, organization_id, channel_id, monitor_id,"
                    " event, status, job) values (:k, :id, :org, :c, :m, :e, 'pending',"
                    " cast(:job as jsonb)) on conflict do nothing returning key"
                ),
                delivery_row(job),
            )
        ).scalar()
        if inserted is None:
            return False
        await self._journal.write(
            job.key,
            job.organization_id,
            lambda envelope: NotificationQueued(
                **envelope,
                key=job.key,
                channel_id=job.channel_id,
                channel_type=job.channel_type,
                alert_rule_id=job.alert_rule_id,
                monitor_id=job.monitor.id,
                incident_id=job.incident_id,
                event=job.event,
                resend=job.resend,
            ),
            only_first=True,
        )
        await self._publish(job)
        return True


async def _remember(conn: AsyncConnection, job: NotificationJob, interval: int) -> None:
    await conn.execute(
        text(
            "insert into reminders (monitor_id, alert_rule_id, channel_id, organization_id, job,"
            " interval_seconds, next_at) values (:m, :r, :c, :org, cast(:job as jsonb), :i,"
            " :at) on conflict (monitor_id, alert_rule_id, channel_id) do update set"
            " job = excluded.job, interval_seconds = excluded.interval_seconds,"
            " next_at = excluded.next_at, sent = 0"
        ),
        {
            "m": job.monitor.id,
            "r": job.alert_rule_id,
            "c": job.channel_id,
            "org": job.organization_id,
            "job": msgspec.json.encode(job).decode(),
            "i": interval,
            "at": job.occurred_at + timedelta(seconds=interval),
        },
    )
