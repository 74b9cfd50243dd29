"""The notifier's routing projection on real PostgreSQL and NATS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from nats.aio.client import Client
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.notifications import NotificationJob
from phoenix_contracts.subjects import Subjects
from phoenix_notifier.journal import Journal
from phoenix_notifier.routing import RoutingProjection
from phoenix_platform.messaging.eventstore import EventStore
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.infra import migrated

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(database_url: str, fresh_namespace: str) -> AsyncIterator[AsyncEngine]:
    async with migrated(
        database_url, f"n_{fresh_namespace}", "phoenix_notifier.migrations"
    ) as engine:
        yield engine


async def test_a_change_too_old_to_alert_is_applied_and_sends_nothing(
    engine: AsyncEngine, nc: Client, subjects: Subjects
) -> None:
    # Replaying an old log must not page anyone, and must not fail the projection
    # either (a failing apply is retried, then parked on the dead-letter stream).
    sent: list[NotificationJob] = []

    async def publish(job: NotificationJob) -> None:
        sent.append(job)

    routing = RoutingProjection(
        publish, Journal(EventStore(nc.jetstream(), subjects)), timedelta(minutes=10)
    )
    org, monitor = str(uuid.uuid4()), str(uuid.uuid4())
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    async with engine.begin() as conn:
        await conn.execute(
            text("insert into monitors (id, organization_id, name, url) values (:id, :o, 'a', '')"),
            {"id": monitor, "o": org},
        )
        await routing.apply(
            conn,
            MonitorStatusChanged(
                event_id=str(uuid.uuid4()),
                aggregate_id=monitor,
                aggregate_version=1,
                occurred_at=long_ago,
                organization_id=org,
                monitor_id=monitor,
                status="down",
                previous="up",
                reason="HTTP 500",
                result_id=str(uuid.uuid4()),
                checked_at=long_ago,
            ),
            1,
        )
        status = await conn.scalar(
            text("select status from monitors where id = :id"), {"id": monitor}
        )
    assert status == "down"
    assert sent == []
