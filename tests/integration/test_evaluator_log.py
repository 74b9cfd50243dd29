"""The evaluator's decisions land in the real event log, once, with their incidents."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from nats.aio.client import Client
from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.monitors import MonitorCreated, MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_evaluator.handlers import (
    EvaluatorDeps,
    handle_result,
    incident_id_for,
    record_incident,
)
from phoenix_evaluator.judge import Change, judge
from phoenix_evaluator.state import EvaluatorState
from phoenix_platform.follower import MemoryFollower
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.codec import decode_event, event_type
from phoenix_platform.messaging.eventstore import EventStore

pytestmark = pytest.mark.integration
T0 = datetime.now(UTC)


def result(outcome: str, second: int) -> CheckCompleted:
    due = T0 + timedelta(seconds=second)
    return CheckCompleted(
        result_id=f"r{second}",
        job_id=f"m1:default:{second}",
        monitor_id="m1",
        organization_id="o1",
        region="default",
        due_at=due,
        started_at=due,
        finished_at=due + timedelta(milliseconds=50),
        outcome=outcome,  # type: ignore[arg-type]
        message="HTTP 500" if outcome == "down" else "HTTP 200",
    )


async def log_types(nc: Client, subjects: Subjects) -> list[str]:
    js = nc.jetstream()
    info = await js.stream_info(subjects.stream("EVENTS"))
    types = []
    for seq in range(1, info.state.last_seq + 1):
        types.append(
            event_type(decode_event((await js.get_msg(subjects.stream("EVENTS"), seq)).data))
        )
    return types


async def test_a_down_and_a_recovery_append_status_changes_and_one_incident(
    nc: Client, subjects: Subjects
) -> None:
    js = nc.jetstream()
    store = EventStore(js, subjects)
    spec = MonitorSpec(
        name="shop",
        type="http",
        url="https://shop.example",
        failure_threshold=2,
        recovery_threshold=1,
    )
    await store.append(
        [
            MonitorCreated(
                event_id=uuid7(),
                aggregate_id="m1",
                aggregate_version=1,
                occurred_at=T0,
                organization_id="o1",
                spec=spec,
            )
        ],
        0,
    )
    state = EvaluatorState()
    follower = MemoryFollower(js, subjects, state.apply)
    task = asyncio.create_task(follower.run())
    await asyncio.wait_for(follower.wait_caught_up(), 10)
    deps = EvaluatorDeps(state=state, store=store, follower=follower)

    for item in [result("up", 0), result("down", 30), result("down", 60)]:
        await handle_result(item, deps)
    await handle_result(result("down", 60), deps)  # redelivered: nothing new
    await handle_result(result("up", 90), deps)
    task.cancel()

    assert await log_types(nc, subjects) == [
        "monitor.created",
        "health.status_changed",  # pending → up
        "incident.opened",
        "health.status_changed",  # up → down, naming the incident
        "incident.resolved",
        "health.status_changed",  # down → up
    ]
    assert state.monitors["m1"].health.status == "up"
    assert state.monitors["m1"].health.incident_id is None


async def test_a_retried_result_after_a_crash_reuses_the_same_incident(
    nc: Client, subjects: Subjects
) -> None:
    js = nc.jetstream()
    store = EventStore(js, subjects)
    spec = MonitorSpec(name="api", type="http", url="https://api.example", failure_threshold=1)
    await store.append(
        [
            MonitorCreated(
                event_id=uuid7(),
                aggregate_id="m1",
                aggregate_version=1,
                occurred_at=T0,
                organization_id="o1",
                spec=spec,
            )
        ],
        0,
    )

    async def fresh_evaluator() -> EvaluatorDeps:
        state = EvaluatorState()
        follower = MemoryFollower(js, subjects, state.apply)
        asyncio.create_task(follower.run())  # noqa: RUF006 - ends with the test's loop
        await asyncio.wait_for(follower.wait_caught_up(), 10)
        return EvaluatorDeps(state=state, store=store, follower=follower)

    first = await fresh_evaluator()
    await handle_result(result("up", 0), first)
    # The evaluator dies after storing the incident, before the status change:
    # the incident is written here alone, as the handler would have.
    watched = first.state.monitors["m1"]
    down = result("down", 30)
    _, decisions = judge(watched.health, down, watched.policy, incident_id_for(down))
    change = decisions[0]
    assert isinstance(change, Change)
    await record_incident(store, watched, change, down)

    second = await fresh_evaluator()
    await handle_result(down, second)  # the redelivered result
    types = await log_types(nc, subjects)
    assert types.count("incident.opened") == 1
    assert types[-1] == "health.status_changed"
    assert second.state.monitors["m1"].health.incident_id == incident_id_for(down)
