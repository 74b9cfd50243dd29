"""``POST /notification-channels/{id}/test``: a real message through the channel, now.

Not a delivery: no rule, no delivery log, no retries; the caller learns at
once whether the channel works and, if not, whether retrying could help.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.js import JetStreamContext
from phoenix_contracts.base import Rejected
from phoenix_contracts.notifications import ChannelTested, MonitorRef, NotificationJob, TestChannel
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.tail import last_sequence
from phoenix_platform.projection import Projector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from phoenix_notifier.channels.base import Channel, TransportError
from phoenix_notifier.delivery import send


@dataclass(frozen=True)
class TestDeps:
    engine: AsyncEngine
    channels: dict[str, Channel]
    projector: Projector
    js: JetStreamContext
    stream: str
    events_subject: str
    secrets_key: bytes | None


async def test_channel(cmd: TestChannel, deps: TestDeps) -> ChannelTested | Rejected:
    # A channel created a moment ago must be known here too: catch up with the log first.
    await deps.projector.wait_for(await last_sequence(deps.js, deps.stream, deps.events_subject))
    async with deps.engine.connect() as conn:
        row = (
            await conn.execute(
                text("select type, config from channels where id = :c and organization_id = :o"),
                {"c": cmd.channel_id, "o": cmd.organization_id},
            )
        ).one_or_none()
    if row is None or row.type not in deps.channels:
        return Rejected(code="not_found", message="notification channel not found")
    job = NotificationJob(
        key=f"test:{uuid7()}",
        organization_id=cmd.organization_id,
        channel_id=cmd.channel_id,
        channel_type=row.type,
        alert_rule_id="",
        event="test",
        monitor=MonitorRef(id="", name="Phoenix test", url=""),
        status="test",
        previous_status="",
        reason="a test message: this channel works",
        occurred_at=datetime.now(UTC),
        cause_event_id="",
    )
    started = time.perf_counter()
    try:
        await send(deps.channels[row.type], job, row.config, deps.secrets_key)
    except TransportError as exc:
        return ChannelTested(
            ok=False, error=str(exc), permanent=exc.permanent, duration_ms=_since(started)
        )
    return ChannelTested(ok=True, duration_ms=_since(started))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
