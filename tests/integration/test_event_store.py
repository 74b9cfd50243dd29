"""The event log on a real NATS server: appends, concurrency, duplicates."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from nats.aio.client import Client
from phoenix_contracts.monitors import MonitorCreated, MonitorPaused, MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.eventstore import ConcurrencyConflict, EventStore
from phoenix_platform.messaging.streams import Streams, provision, stream_configs

pytestmark = pytest.mark.integration


def created(monitor_id: str, event_id: str | None = None) -> MonitorCreated:
    return MonitorCreated(
        event_id=event_id or uuid7(),
        aggregate_id=monitor_id,
        aggregate_version=1,
        occurred_at=datetime.now(UTC),
        organization_id="org-1",
        spec=MonitorSpec(name="site", type="http", url="https://example.com"),
    )


def paused(monitor_id: str, version: int) -> MonitorPaused:
    return MonitorPaused(
        event_id=uuid7(),
        aggregate_id=monitor_id,
        aggregate_version=version,
        occurred_at=datetime.now(UTC),
        organization_id="org-1",
    )


async def test_it_appends_and_loads_an_aggregate_in_order(nc: Client, subjects: Subjects) -> None:
    store = EventStore(nc.jetstream(), subjects)
    first = await store.append([created("m1")], expected_sequence=0)
    last = await store.append([paused("m1", 2)], expected_sequence=first)
    events, sequence = await store.load("monitor", "m1")
    assert [type(e).__name__ for e in events] == ["MonitorCreated", "MonitorPaused"]
    assert sequence == last


async def test_a_second_create_of_the_same_aggregate_is_a_conflict(
    nc: Client, subjects: Subjects
) -> None:
    store = EventStore(nc.jetstream(), subjects)
    await store.append([created("m1")], expected_sequence=0)
    with pytest.raises(ConcurrencyConflict):
        await store.append([created("m1")], expected_sequence=0)


async def test_of_two_concurrent_writers_exactly_one_wins(nc: Client, subjects: Subjects) -> None:
    store = EventStore(nc.jetstream(), subjects)
    sequence = await store.append([created("m1")], expected_sequence=0)
    results = await asyncio.gather(
        store.append([paused("m1", 2)], sequence),
        store.append([paused("m1", 2)], sequence),
        return_exceptions=True,
    )
    assert sum(isinstance(r, ConcurrencyConflict) for r in results) == 1
    assert sum(isinstance(r, int) for r in results) == 1


async def test_a_retried_publish_of_the_same_event_is_stored_once(
    nc: Client, subjects: Subjects
) -> None:
    js = nc.jetstream()
    store = EventStore(js, subjects)
    event = created("m1")
    first = await store.append([event], 0)
    # Same event id, as after a lost ack: NATS 2.9 drops it as a duplicate,
    # newer servers refuse the stale sequence and the store finds its own event.
    assert await store.append([event], 0) == first
    info = await js.stream_info(Streams(subjects).events)
    assert info.state.messages == 1


async def test_loading_an_unknown_aggregate_gives_nothing(nc: Client, subjects: Subjects) -> None:
    assert await EventStore(nc.jetstream(), subjects).load("monitor", "nope") == ([], 0)


async def test_provisioning_twice_changes_nothing(nc: Client, subjects: Subjects) -> None:
    js = nc.jetstream()
    mine = [c.name for c in stream_configs(subjects) if c.name]
    before = {name: (await js.stream_info(name)).state.messages for name in mine}
    await provision(js, stream_configs(subjects))
    after = {name: (await js.stream_info(name)).state.messages for name in mine}
    assert before == after
    assert Streams(subjects).events in after
