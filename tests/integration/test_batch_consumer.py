"""The batching work consumer: one handler call per pull, acks after it, replays harmless."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from phoenix_contracts.checks import CheckCompleted, Timings
from phoenix_contracts.subjects import Subjects
from phoenix_gateway.readmodel.history import History, history_partitions
from phoenix_gateway.readmodel.partitions import PartitionManager
from phoenix_platform.messaging.broker import create_broker
from phoenix_platform.messaging.codec import encode
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.messaging.work import BatchConsumer
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.infra import Servers, migrated
from tests.integration.test_dead_letters import parked

pytestmark = pytest.mark.integration


@pytest.fixture
async def engine(database_url: str, fresh_namespace: str) -> AsyncIterator[AsyncEngine]:
    async with migrated(
        database_url, f"b_{fresh_namespace}", "phoenix_gateway.migrations"
    ) as engine:
        yield engine


def results(monitor_id: str, count: int) -> list[CheckCompleted]:
    start = datetime.now(UTC) - timedelta(minutes=1)
    return [
        CheckCompleted(
            result_id=str(uuid.uuid4()),
            job_id=f"j{n}",
            monitor_id=monitor_id,
            organization_id=str(uuid.uuid4()),
            region="default",
            due_at=start + timedelta(seconds=n),
            started_at=start + timedelta(seconds=n),
            finished_at=start + timedelta(seconds=n),
            outcome="down" if n % 4 == 0 else "up",
            timings=Timings(total_ms=10.0 + n),
        )
        for n in range(count)
    ]


def results_consumer(
    servers: Servers, subjects: Subjects, durable: str, handler: Any, **options: Any
) -> tuple[NatsBroker, BatchConsumer]:
    """A batch consumer of every result, on a broker of its own (not yet connected)."""
    broker = create_broker(servers.nats_url, "test")
    consumer = BatchConsumer(
        broker,
        subjects=subjects,
        subject=subjects.all_results,
        stream=Streams(subjects).results,
        durable=subjects.consumer(durable),
        kind=CheckCompleted,
        handler=handler,
        **options,
    )
    return broker, consumer


async def drained(nc: Client, stream: str, durable: str, timeout: float = 15.0) -> None:
    js = nc.jetstream()
    async with asyncio.timeout(timeout):
        while True:
            try:
                info = await js.consumer_info(stream, durable)
            except NotFoundError:  # the consumer's task has not created it yet
                info = None
            if info and info.num_pending == 0 and info.num_ack_pending == 0:
                return
            await asyncio.sleep(0.05)


async def day_rollup(engine: AsyncEngine, monitor_id: str) -> tuple[object, ...]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "select total, up, down, down_slots, latency_sum, histogram"
                    " from check_rollups_day where monitor_id = :m"
                ),
                {"m": monitor_id},
            )
        ).one()
        return tuple(row)


async def test_results_published_twice_count_once_in_the_rollups(
    servers: Servers, nc: Client, subjects: Subjects, engine: AsyncEngine
) -> None:
    history = History(engine, PartitionManager(engine, history_partitions(30)))
    batches: list[int] = []

    async def record(items: list[CheckCompleted]) -> None:
        batches.append(len(items))
        await history.record_many(items)

    streams = Streams(subjects)
    broker, consumer = results_consumer(servers, subjects, "history", record)
    monitor = str(uuid.uuid4())
    sent = results(monitor, 200)
    js = nc.jetstream()
    for copy in range(2):  # distinct message ids: the server keeps both copies
        for r in sent:
            await js.publish(
                subjects.result(monitor),
                encode(r),
                headers={"Nats-Msg-Id": f"{r.result_id}-{copy}"},
            )
    await broker.connect()
    task = asyncio.create_task(consumer.run())
    try:
        await drained(nc, streams.results, subjects.consumer("history"))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broker.stop()
    assert sum(batches) == 400
    assert len(batches) < 400 / 10  # batched, not one by one
    total, up, down, slots, latency_sum, histogram = await day_rollup(engine, monitor)
    assert (total, up, down, slots) == (200, 150, 50, 50)
    assert latency_sum == sum(r.timings.total_ms for r in sent if r.outcome == "up")
    assert sum(histogram) == 150  # type: ignore[arg-type]


async def test_a_failing_message_is_parked_without_taking_its_batch_with_it(
    servers: Servers, nc: Client, subjects: Subjects
) -> None:
    handled: list[str] = []

    async def handler(items: list[CheckCompleted]) -> None:
        if any(i.job_id == "poison" for i in items):
            raise RuntimeError("cannot store this one")
        handled.extend(i.job_id for i in items)

    streams = Streams(subjects)
    broker, consumer = results_consumer(servers, subjects, "history", handler, max_deliver=2)
    monitor = str(uuid.uuid4())
    good = results(monitor, 10)
    poison = CheckCompleted(**{**{f: getattr(good[0], f) for f in good[0].__struct_fields__},
                               "job_id": "poison", "result_id": str(uuid.uuid4())})  # fmt: skip
    labels = {"stream": streams.results}

    def counted(metric: str) -> float:
        return REGISTRY.get_sample_value(f"phoenix_messages_{metric}_total", labels) or 0.0

    retried, dead_lettered = counted("retried"), counted("dead_lettered")
    js = nc.jetstream()
    await js.publish(subjects.result(monitor), b"{not json")
    for r in [*good[:5], poison, *good[5:]]:
        await js.publish(subjects.result(monitor), encode(r))
    await broker.connect()
    task = asyncio.create_task(consumer.run())
    try:
        dead = await parked(nc, subjects, 2, timeout=20)
        await drained(nc, streams.results, subjects.consumer("history"))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broker.stop()
    assert sorted(handled) == sorted(r.job_id for r in good)
    errors = sorted(h["Phx-Dlq-Error"].split(":")[0] for h in dead)
    assert errors == ["RuntimeError", "undecodable"]
    # The poison result was handed back once on its own (delivery 1 of 2), then parked.
    assert counted("retried") - retried == 1
    assert counted("dead_lettered") - dead_lettered == 2


@pytest.mark.parametrize("linger", [0.0, 0.3])
async def test_a_trickle_gathers_into_few_batches_when_the_consumer_lingers(
    servers: Servers, nc: Client, subjects: Subjects, linger: float
) -> None:
    # 60 results over about 1.2 s: without lingering nearly every pull carries one
    # result; lingering 0.3 s after a short pull makes a handful of batches.
    batches: list[int] = []

    async def record(items: list[CheckCompleted]) -> None:
        batches.append(len(items))

    streams = Streams(subjects)
    broker, consumer = results_consumer(servers, subjects, "trickle", record, linger=linger)
    await broker.connect()
    task = asyncio.create_task(consumer.run())
    monitor = str(uuid.uuid4())
    js = nc.jetstream()
    try:
        for r in results(monitor, 60):
            await js.publish(subjects.result(monitor), encode(r))
            await asyncio.sleep(0.02)
        await drained(nc, streams.results, subjects.consumer("trickle"))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broker.stop()
    assert sum(batches) == 60
    if linger:
        assert len(batches) <= 8
    else:
        assert len(batches) >= 20
