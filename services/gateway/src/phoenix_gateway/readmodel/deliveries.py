"""The delivery log read model: rows from ``delivery.*`` events, and the reads the API needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phoenix_contracts.base import Event
from phoenix_contracts.notifications import (
    NotificationFailed,
    NotificationQueued,
    NotificationRetried,
    NotificationSent,
    NotificationSkipped,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

DeliveryEvents = (
    NotificationQueued,
    NotificationSent,
    NotificationFailed,
    NotificationSkipped,
    NotificationRetried,
)
_COLUMNS = (
    "seq, id, channel_id, channel_type, alert_rule_id, monitor_id, incident_id, event, resend,"
    " status, attempts, last_error, permanent, created_at, updated_at, sent_at"
)
# Each change applies once and in order: guarded by the delivery's version.
_CHANGE = (
    "update deliveries set status = :status, attempts = coalesce(:attempts, attempts),"
    " last_error = :error, permanent = :permanent, version = :v, updated_at = :t,"
    " sent_at = case when :status = 'sent' then :t else sent_at end"
    " where id = :id and version < :v"
)


async def apply(conn: AsyncConnection, event: Event) -> None:
    params: dict[str, Any] = {"id": event.aggregate_id, "v": event.aggregate_version}
    params["t"] = event.occurred_at
    match event:
        case NotificationQueued():
            await conn.execute(
                text(
                    "insert into deliveries (id, key, organization_id, channel_id, channel_type,"
                    " alert_rule_id, monitor_id, incident_id, event, resend, status, version,"
                    " created_at, updated_at) values (:id, :key, :org, :c, :ct,"
                    " cast(nullif(:r, '') as uuid), :m, cast(nullif(:i, '') as uuid), :e, :n,"
                    " 'pending', :v, :t, :t) on conflict (id) do nothing"
                ),
                {
                    **params,
                    "key": event.key,
                    "org": event.organization_id,
                    "c": event.channel_id,
                    "ct": event.channel_type,
                    "r": event.alert_rule_id,
                    "m": event.monitor_id,
                    "i": event.incident_id,
                    "e": event.event,
                    "n": event.resend,
                },
            )
            return
        case NotificationSent():
            params |= {"status": "sent", "attempts": event.attempts, "error": None}
        case NotificationFailed():
            params |= {"status": "failed", "attempts": event.attempts, "error": event.error}
            params["permanent"] = event.permanent
        case NotificationSkipped():
            params |= {"status": "skipped", "attempts": None, "error": event.reason}
        case NotificationRetried():
            params |= {"status": "pending", "attempts": None, "error": None}
    params.setdefault("permanent", False)
    await conn.execute(text(_CHANGE), params)


@dataclass(frozen=True)
class DeliveryFilter:
    monitor_id: str | None = None
    incident_id: str | None = None
    channel_id: str | None = None
    status: str | None = None


class DeliveryReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def page(
        self, organization_id: str, where: DeliveryFilter, *, before: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Newest first, keyset-paginated on the row's sequence."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    f"select {_COLUMNS} from deliveries where organization_id = :o"
                    " and (cast(:before as bigint) is null or seq < :before)"
                    " and (cast(:m as uuid) is null or monitor_id = cast(:m as uuid))"
                    " and (cast(:i as uuid) is null or incident_id = cast(:i as uuid))"
                    " and (cast(:c as uuid) is null or channel_id = cast(:c as uuid))"
                    " and (cast(:s as text) is null or status = :s)"
                    " order by seq desc limit :limit"
                ),
                {
                    "o": organization_id,
                    "before": before,
                    "m": where.monitor_id,
                    "i": where.incident_id,
                    "c": where.channel_id,
                    "s": where.status,
                    "limit": limit,
                },
            )
            return [dict(row) for row in rows.mappings()]

    async def get(self, organization_id: str, delivery_id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        text(
                            f"select {_COLUMNS} from deliveries where id = cast(:id as uuid)"
                            " and organization_id = :o"
                        ),
                        {"id": delivery_id, "o": organization_id},
                    )
                )
                .mappings()
                .one_or_none()
            )
        return dict(row) if row else None
