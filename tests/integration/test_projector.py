"""Projections on real NATS and PostgreSQL: rows and checkpoint move together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from nats.aio.client import Client
from phoenix_contracts.base import Event
from phoenix_contracts.monitors import MonitorCreated, MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_platform.database import create_engine
from phoenix_platform.follower import MemoryFollower
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.projection import Projector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

pytestmark = pytest.mark.integration


class CountingProjection:
    """Counts each monitor it sees; a double apply would show as a count of 2."""

    name = "counting"

    async def apply(self, conn: AsyncConnection, event: Event, sequence: int) -> None:
        await conn.execute(
            text(
                "insert into seen (id, times) values (:id, 1)"
                " on conflict (id) do update set times = seen.times + 1"
            ),
            {"id": event.aggregate_id},
        )


@pytest.fixture
async def engine(database_url: str, fresh_namespace: str) -> AsyncIterator[AsyncEngine]:
    schema = f"p_{fresh_namespace}"
    engine = create_engine(database_url, schema)
    async with engine.begin() as conn:
        await conn.execute(text(f"create schema {schema}"))
        await conn.execute(
            text(
                f"create table {schema}.checkpoints"
                " (name text primary key, position bigint not null)"
            )
        )
        await conn.execute(
            text(f"create table {schema}.seen (id text primary key, times int not null)")
        )
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text(f"drop schema {schema} cascade"))
    await engine.dispose()


async def append_monitors(store: EventStore, count: int) -> int:
    sequence = 0
    for n in range(count):
        sequence = await store.append(
            [
                MonitorCreated(
                    event_id=uuid7(),
                    aggregate_id=f"m{n}",
                    aggregate_version=1,
                    occurred_at=datetime.now(UTC),
                    organization_id="o",
                    spec=MonitorSpec(name=f"m{n}", type="http", url="https://example.com"),
                )
            ],
            0,
        )
    return sequence


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("select id, times from seen"))
        return {row.id: row.times for row in rows}


async def run_until(projector: Projector, sequence: int) -> asyncio.Task[None]:
    task = asyncio.create_task(projector.run())
    assert await projector.wait_for(sequence, timeout=15)
    return task


async def stop(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_it_applies_every_event_once_and_resumes_from_its_checkpoint(
    nc: Client, subjects: Subjects, engine: AsyncEngine
) -> None:
    js = nc.jetstream()
    store = EventStore(js, subjects)
    first = await append_monitors(store, 20)
    task = await run_until(Projector(js, subjects, engine, CountingProjection()), first)
    await stop(task)

    # More events while it was down; a new projector resumes, it does not restart.
    last = await append_monitors(EventStore(js, subjects), 0) or first
    for n in range(20, 30):
        last = await store.append(
            [
                MonitorCreated(
                    event_id=uuid7(),
                    aggregate_id=f"m{n}",
                    aggregate_version=1,
                    occurred_at=datetime.now(UTC),
                    organization_id="o",
                    spec=MonitorSpec(name="x", type="http", url="https://example.com"),
                )
            ],
            0,
        )
    resumed = Projector(js, subjects, engine, CountingProjection())
    task = await run_until(resumed, last)
    await stop(task)
    seen = await counts(engine)
    assert len(seen) == 30
    assert set(seen.values()) == {1}


async def test_two_replicas_of_a_projection_never_apply_an_event_twice(
    nc: Client, subjects: Subjects, engine: AsyncEngine
) -> None:
    js = nc.jetstream()
    last = await append_monitors(EventStore(js, subjects), 50)
    one = Projector(js, subjects, engine, CountingProjection())
    two = Projector(js, subjects, engine, CountingProjection())
    tasks = [asyncio.create_task(one.run()), asyncio.create_task(two.run())]
    assert await one.wait_for(last, timeout=15)
    assert await two.wait_for(last, timeout=15)
    await stop(*tasks)
    seen = await counts(engine)
    assert len(seen) == 50
    assert set(seen.values()) == {1}


async def test_a_memory_follower_reports_caught_up_even_on_an_empty_log(
    nc: Client, subjects: Subjects
) -> None:
    applied: list[int] = []
    follower = MemoryFollower(nc.jetstream(), subjects, lambda e, s: applied.append(s))
    task = asyncio.create_task(follower.run())
    await asyncio.wait_for(follower.wait_caught_up(), 10)
    await stop(task)
    assert applied == []
    assert follower.caught_up


async def test_an_undecodable_event_is_parked_and_the_follower_moves_on(
    nc: Client, subjects: Subjects
) -> None:
    js = nc.jetstream()
    await js.publish(subjects.event("monitor", "broken"), b'{"type": "no.such.event"}')
    last = await append_monitors(EventStore(js, subjects), 1)
    applied: list[str] = []
    follower = MemoryFollower(js, subjects, lambda e, s: applied.append(e.aggregate_id))
    task = asyncio.create_task(follower.run())
    assert await follower.wait_for(last, timeout=10)
    await stop(task)
    assert applied == ["m0"]
    dlq = await js.stream_info(subjects.stream("DLQ"))
    assert dlq.state.messages == 1


class PickyProjection(CountingProjection):
    """Refuses one monitor's event the way a constraint violation would, every time."""

    async def apply(self, conn: AsyncConnection, event: Event, sequence: int) -> None:
        if event.aggregate_id == "m3":
            raise ValueError("value out of range for this column")
        await super().apply(conn, event, sequence)


async def test_an_event_that_always_fails_to_apply_is_parked_and_the_rest_applied(
    nc: Client, subjects: Subjects, engine: AsyncEngine
) -> None:
    js = nc.jetstream()
    last = await append_monitors(EventStore(js, subjects), 6)
    projector = Projector(js, subjects, engine, PickyProjection())

    async def supervised() -> None:  # what Runtime.background does for a service
        while True:
            try:
                await projector.run()
            except ValueError:
                await asyncio.sleep(0.05)

    task = asyncio.create_task(supervised())
    assert await projector.wait_for(last, timeout=15)
    await stop(task)
    seen = await counts(engine)
    assert sorted(seen) == ["m0", "m1", "m2", "m4", "m5"]
    assert set(seen.values()) == {1}
    parked = await js.get_msg(subjects.stream("DLQ"), 1)
    assert "value out of range" in (parked.headers or {})["Phx-Dlq-Error"]
