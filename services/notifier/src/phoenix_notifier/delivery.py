"""Delivering one notification job, exactly once per idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phoenix_contracts.notifications import NotificationJob
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.work import PermanentError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from phoenix_notifier.channels.base import Channel, TransportError
from phoenix_notifier.message import notice_of
from phoenix_notifier.secrets import open_config

log = get_logger(__name__)


@dataclass(frozen=True)
class DeliveryDeps:
    engine: AsyncEngine
    channels: dict[str, Channel]
    secrets_key: bytes | None


async def deliver(job: NotificationJob, deps: DeliveryDeps) -> None:
    async with deps.engine.connect() as conn:
        status = (
            await conn.execute(text("select status from deliveries where key = :k"), {"k": job.key})
        ).scalar()
        config = (
            await conn.execute(
                text("select config from channels where id = :c"), {"c": job.channel_id}
            )
        ).scalar()
    if status in ("sent", "skipped", "failed"):
        return  # the delivery log says it is done: a redelivery sends nothing
    if config is None:
        await _record(deps, job.key, "skipped", "channel no longer exists")
        return
    channel = deps.channels.get(job.channel_type)
    if channel is None:
        await _record(deps, job.key, "failed", f"no channel plug-in for {job.channel_type!r}")
        return
    try:
        await send(channel, job, config, deps.secrets_key)
    except TransportError as exc:
        await _record(deps, job.key, "failed" if exc.permanent else "pending", str(exc))
        if exc.permanent:
            raise PermanentError(str(exc)) from exc
        raise
    await _record(deps, job.key, "sent", None)
    log.info("notification.sent", key=job.key, channel_id=job.channel_id, event=job.event)


async def send(
    channel: Channel, job: NotificationJob, config: dict[str, Any], key: bytes | None
) -> None:
    typed = open_config(key, job.organization_id, job.channel_type, config)
    notice = notice_of(job, typed.title_template, typed.text_template)
    await channel.send(notice, typed)


async def _record(deps: DeliveryDeps, key: str, status: str, error: str | None) -> None:
    async with deps.engine.begin() as conn:
        await conn.execute(
            text(
                "update deliveries set status = :s, attempts = attempts + 1, last_error = :e,"
                " sent_at = case when :s = 'sent' then now() else sent_at end where key = :k"
            ),
            {"s": status, "e": error, "k": key},
        )
