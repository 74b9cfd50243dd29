"""Reminders while a monitor stays down: the n-th one ``n * resend interval`` after the alert.

Every replica may run the loop: a due reminder row is taken with ``for update
skip locked``, so one replica sends it, and its delivery key (``<alert key>:r<n>``)
makes a repeat after a crash the same delivery, not a second one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import msgspec
from phoenix_contracts.notifications import NotificationJob
from phoenix_platform.logging import get_logger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = get_logger(__name__)
BATCH = 100

Enqueue = Callable[[AsyncConnection, NotificationJob], Awaitable[bool]]


def next_reminder(job: NotificationJob, number: int) -> NotificationJob:
    """The ``number``-th reminder of the alert ``job`` (pure)."""
    return msgspec.structs.replace(job, key=f"{job.key}:r{number}", resend=number)


async def send_due(engine: AsyncEngine, enqueue: Enqueue, now: datetime | None = None) -> int:
    """Send every reminder that is due; how many were sent."""
    now = now or datetime.now(UTC)
    sent = 0
    async with engine.begin() as conn:
        rows = (
            await conn.execute(
                text(
                    "select r.monitor_id, r.alert_rule_id, r.channel_id, r.job, r.interval_seconds,"
                    " r.next_at, r.sent from reminders r join monitors m on m.id = r.monitor_id"
                    " where r.next_at <= :now and m.status = 'down'"
                    " order by r.next_at limit :n for update of r skip locked"
                ),
                {"now": now, "n": BATCH},
            )
        ).all()
        for row in rows:
            number = row.sent + 1
            job = next_reminder(msgspec.convert(row.job, NotificationJob), number)
            if await enqueue(conn, job):
                sent += 1
            interval = timedelta(seconds=row.interval_seconds)
            # After an outage of the notifier, one reminder now, not one per missed slot.
            following = max(row.next_at + interval, now + interval / 2)
            await conn.execute(
                text(
                    "update reminders set sent = :n, next_at = :at where monitor_id = :m"
                    " and alert_rule_id = :r and channel_id = :c"
                ),
                {
                    "n": number,
                    "at": following,
                    "m": row.monitor_id,
                    "r": row.alert_rule_id,
                    "c": row.channel_id,
                },
            )
    return sent


async def run(engine: AsyncEngine, enqueue: Enqueue, every: float = 0.5) -> None:
    while True:
        try:
            if sent := await send_due(engine, enqueue):
                log.info("reminders.sent", count=sent)
        except Exception as exc:  # a database blip must not end reminders for good
            log.warning("reminders.failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(every)
