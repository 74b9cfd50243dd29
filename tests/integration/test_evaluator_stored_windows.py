"""Maintenance windows already in the log, however odd, never stop the evaluator judging.

Moments are bounded where they enter now (``phoenix_contracts.moments``), but the
log keeps what older versions accepted: a window without an offset, or one whose
schedule cannot be computed for some instant. The real evaluator reads them from
the real log and goes on judging every result.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from nats.aio.client import Client
from phoenix_contracts.base import Event
from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.maintenance import MaintenanceSpec, MaintenanceWindowCreated
from phoenix_contracts.monitors import MonitorCreated, MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_evaluator.handlers import EvaluatorDeps, handle_result
from phoenix_evaluator.state import EvaluatorState
from phoenix_platform.follower import MemoryFollower
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.eventstore import EventStore

pytestmark = pytest.mark.integration


def created(event: type[Event], aggregate_id: str, organization_id: str, **fields: object) -> Event:
    return event(
        event_id=uuid7(),
        aggregate_id=aggregate_id,
        aggregate_version=1,
        occurred_at=datetime.now(UTC),
        organization_id=organization_id,
        **fields,
    )


def down(monitor_id: str, organization_id: str, at: datetime) -> CheckCompleted:
    return CheckCompleted(
        result_id=uuid7(),
        job_id=f"{monitor_id}:default:1",
        monitor_id=monitor_id,
        organization_id=organization_id,
        region="default",
        due_at=at,
        started_at=at,
        finished_at=at,
        outcome="down",
        message="HTTP 500",
    )


async def evaluator_over(nc: Client, subjects: Subjects, events: list[Event]) -> EvaluatorDeps:
    js = nc.jetstream()
    store = EventStore(js, subjects)
    for event in events:
        await store.append([event], 0)
    state = EvaluatorState()
    follower = MemoryFollower(js, subjects, state.apply)
    asyncio.create_task(follower.run())  # noqa: RUF006 - ends with the test's loop
    await asyncio.wait_for(follower.wait_caught_up(), 10)
    return EvaluatorDeps(state=state, store=store, follower=follower)


async def test_a_stored_window_without_an_offset_is_read_as_utc(
    nc: Client, subjects: Subjects
) -> None:
    now = datetime.now(UTC)
    naive = MaintenanceSpec(
        title="old",
        strategy="single",
        start_at=(now - timedelta(hours=1)).replace(tzinfo=None),
        end_at=(now + timedelta(hours=1)).replace(tzinfo=None),
    )
    spec = MonitorSpec(name="m", type="http", url="https://m.example", failure_threshold=1)
    deps = await evaluator_over(
        nc,
        subjects,
        [
            created(MonitorCreated, "m1", "o1", spec=spec),
            created(MaintenanceWindowCreated, "w1", "o1", spec=naive),
        ],
    )
    await handle_result(down("m1", "o1", now), deps)  # comparing naive with aware raised
    assert deps.state.monitors["m1"].health.status == "maintenance"


async def test_a_window_that_cannot_answer_does_not_stop_judging(
    nc: Client, subjects: Subjects
) -> None:
    # Kiritimati is 14 hours ahead: late in year 9999 UTC its wall clock is past
    # what a datetime holds, so this cron window cannot say whether it covers.
    cron = MaintenanceSpec(
        title="c", strategy="cron", cron="0 3 * * *", timezone="Pacific/Kiritimati"
    )
    spec = MonitorSpec(name="m", type="http", url="https://m.example", failure_threshold=1)
    deps = await evaluator_over(
        nc,
        subjects,
        [
            created(MonitorCreated, "m2", "o2", spec=spec),
            created(MaintenanceWindowCreated, "w2", "o2", spec=cron),
        ],
    )
    late = datetime(9999, 12, 31, 20, tzinfo=UTC)
    await handle_result(down("m2", "o2", late), deps)
    assert deps.state.monitors["m2"].health.status == "down"
