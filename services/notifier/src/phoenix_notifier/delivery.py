"""Delivering one notification job: once per idempotency key, or a clear failure.

1. The delivery log is read first: a key already ``sent``, ``failed`` or
   ``skipped`` sends nothing (a redelivered job, a replayed projection).
2. The row is *claimed* (``sending``, attempts + 1) before anything leaves. A
   claim younger than the lease means another worker holds it right now (the
   job came back while that worker is still sending): this one waits.
3. The outcome is written, and its event appended, right after the send.

The one duplicate this allows: a worker that dies after the receiver accepted
a message but before step 3 leaves a stale claim, and the redelivery sends
again (for email, the same Message-ID; webhooks carry the same
Idempotency-Key). Nothing that was recorded as sent is ever sent again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from phoenix_contracts.base import Envelope, Event
from phoenix_contracts.notifications import (
    NotificationFailed,
    NotificationJob,
    NotificationSent,
    NotificationSkipped,
)
from phoenix_platform import metrics
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.work import PermanentError, RetryLater
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from phoenix_notifier.channels.base import Channel, TransportError
from phoenix_notifier.journal import Journal, delivery_row
from phoenix_notifier.message import notice_of
from phoenix_notifier.secrets import open_config

log = get_logger(__name__)
DONE = ("sent", "failed", "skipped")


@dataclass(frozen=True)
class DeliveryDeps:
    engine: AsyncEngine
    channels: dict[str, Channel]
    secrets_key: bytes | None
    journal: Journal
    lease_seconds: float  # how long a claim protects a send in progress


class _Claim(msgspec.Struct, frozen=True):
    attempts: int
    config: dict[str, Any] | None


async def deliver(job: NotificationJob, deps: DeliveryDeps) -> None:
    claim = await _claim(deps, job)
    if claim is None:
        return
    if claim.config is None:
        await _finish(deps, job, "skipped", "the channel no longer exists")
        _count(job, "skipped")
        await _journal(
            deps, job, lambda e: NotificationSkipped(**e, key=job.key, reason="channel deleted")
        )
        return
    channel = deps.channels.get(job.channel_type)
    try:
        if channel is None:
            raise TransportError(f"no channel plug-in for {job.channel_type!r}", permanent=True)
        started = time.perf_counter()
        try:
            await send(channel, job, claim.config, deps.secrets_key)
        finally:
            metrics.DELIVERY_DURATION.labels(job.channel_type).observe(
                time.perf_counter() - started
            )
    except TransportError as exc:
        if exc.permanent:
            await _give_up(deps, job, claim.attempts, str(exc), permanent=True)
            raise PermanentError(str(exc)) from exc
        await _finish(deps, job, "pending", str(exc))
        _count(job, "retried")  # back to pending: the work queue brings it again
        raise RetryLater(str(exc), exc.retry_after) from exc
    await _finish(deps, job, "sent", None)
    _count(job, "sent")
    await _journal(
        deps,
        job,
        lambda e: NotificationSent(
            **e, key=job.key, channel_id=job.channel_id, attempts=claim.attempts
        ),
    )
    log.info(
        "notification.sent",
        key=job.key,
        channel_id=job.channel_id,
        alert=job.event,
        attempts=claim.attempts,
    )


async def send(
    channel: Channel, job: NotificationJob, config: dict[str, Any], key: bytes | None
) -> None:
    typed = open_config(key, job.organization_id, job.channel_type, config)
    notice = notice_of(job, typed.title_template, typed.text_template)
    await channel.send(notice, typed)


async def gave_up(job: NotificationJob, error: str, deps: DeliveryDeps) -> None:
    """The work queue's last delivery failed too: record it as failed, once."""
    async with deps.engine.connect() as conn:
        row = (
            await conn.execute(
                text("select status, attempts from deliveries where key = :k"), {"k": job.key}
            )
        ).one_or_none()
    if row is None or row.status in DONE:
        return
    await _give_up(deps, job, row.attempts, error, permanent=False)


async def _claim(deps: DeliveryDeps, job: NotificationJob) -> _Claim | None:
    """Take the delivery for this attempt; None when there is nothing to send."""
    async with deps.engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "select status, extract(epoch from now() - claimed_at) as held"
                    " from deliveries where key = :k for update"
                ),
                {"k": job.key},
            )
        ).one_or_none()
        if row is not None and row.status in DONE:
            return None  # the delivery log says it is done: a redelivery sends nothing
        if row is not None and row.status == "sending" and row.held < deps.lease_seconds:
            raise RetryLater("another worker is sending this delivery", deps.lease_seconds)
        attempts = (
            await conn.execute(
                text(
                    "insert into deliveries (key, id, organization_id, channel_id, monitor_id,"
                    " event, status, attempts, claimed_at, job) values (:k, :id, :org, :c, :m,"
                    " :e, 'sending', 1, now(), cast(:job as jsonb)) on conflict (key) do update"
                    " set status = 'sending', attempts = deliveries.attempts + 1,"
                    " claimed_at = now() returning attempts"
                ),
                delivery_row(job),
            )
        ).scalar_one()
        config = (
            await conn.execute(
                text("select config from channels where id = :c"), {"c": job.channel_id}
            )
        ).scalar()
    return _Claim(attempts=attempts, config=config)


async def _finish(deps: DeliveryDeps, job: NotificationJob, status: str, error: str | None) -> None:
    async with deps.engine.begin() as conn:
        await conn.execute(
            text(
                "update deliveries set status = :s, last_error = :e, claimed_at = null,"
                " sent_at = case when :s = 'sent' then now() else sent_at end where key = :k"
            ),
            {"s": status, "e": error, "k": job.key},
        )


async def _give_up(
    deps: DeliveryDeps, job: NotificationJob, attempts: int, error: str, *, permanent: bool
) -> None:
    await _finish(deps, job, "failed", error)
    _count(job, "failed")
    await _journal(
        deps,
        job,
        lambda e: NotificationFailed(
            **e,
            key=job.key,
            channel_id=job.channel_id,
            attempts=attempts,
            error=error[:500],
            permanent=permanent,
        ),
    )
    log.warning(
        "notification.failed",
        key=job.key,
        channel_id=job.channel_id,
        attempts=attempts,
        permanent=permanent,
        error=error[:500],
    )


def _count(job: NotificationJob, outcome: str) -> None:
    """One attempt's outcome in ``phoenix_deliveries``, right where the delivery log says so.

    ``retried`` is a transient failure handed back to the work queue; ``failed`` a
    delivery given up on (permanent error, or its last transient one).
    """
    if not job.key.startswith("test:"):  # a channel test is not a delivery
        metrics.DELIVERIES.labels(job.channel_type, outcome).inc()


async def _journal(
    deps: DeliveryDeps, job: NotificationJob, build: Callable[[Envelope], Event]
) -> None:
    if job.key.startswith("test:"):
        return  # a channel test is not a delivery
    await deps.journal.write(job.key, job.organization_id, build)
