"""An operator sends a failed delivery off again (``POST /api/v1/deliveries/{id}/retry``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec
from phoenix_contracts.base import Accepted, Rejected
from phoenix_contracts.notifications import NotificationJob, NotificationRetried, RetryDelivery
from phoenix_platform.logging import get_logger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from phoenix_notifier.journal import Journal

log = get_logger(__name__)


@dataclass(frozen=True)
class RetryDeps:
    engine: AsyncEngine
    journal: Journal
    # publish(job, message id): a retry needs an id of its own, or the stream's
    # duplicate window would drop it as the original job.
    publish: Callable[[NotificationJob, str], Awaitable[None]]


async def retry_delivery(cmd: RetryDelivery, deps: RetryDeps) -> Accepted | Rejected:
    async with deps.engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "update deliveries set status = 'pending', last_error = null"
                    " where id = cast(:id as uuid) and organization_id = :o and status = 'failed'"
                    " returning key, job"
                ),
                {"id": cmd.delivery_id, "o": cmd.organization_id},
            )
        ).one_or_none()
        if row is None:
            exists = (
                await conn.execute(
                    text(
                        "select status from deliveries where id = cast(:id as uuid)"
                        " and organization_id = :o"
                    ),
                    {"id": cmd.delivery_id, "o": cmd.organization_id},
                )
            ).scalar()
            if exists is None:
                return Rejected(code="not_found", message="delivery not found")
            return Rejected(
                code="conflict", message=f"only a failed delivery can be retried (it is {exists})"
            )
        if row.job is None:
            return Rejected(code="conflict", message="this delivery predates retries")
        job = msgspec.convert(row.job, NotificationJob)
        sequence = await deps.journal.write(
            job.key,
            job.organization_id,
            lambda e: NotificationRetried(**e, key=job.key, by_user_id=cmd.by_user_id),
        )
        assert sequence is not None
        await deps.publish(job, f"{job.key}:retry:{sequence}")
    log.info("notification.retried", key=job.key)
    return Accepted(aggregate_id=cmd.delivery_id, sequence=sequence, events=["delivery.retried"])
