"""The history writer waits out a database outage: nothing is dead-lettered, nothing lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from phoenix_contracts.subjects import Subjects
from phoenix_gateway.readmodel.history import History, history_partitions
from phoenix_gateway.readmodel.partitions import PartitionManager
from phoenix_platform.database import create_engine
from phoenix_platform.messaging.codec import encode
from phoenix_platform.messaging.streams import Streams
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.infra import Servers, migrated
from tests.integration.proxy import TcpProxy, through
from tests.integration.test_batch_consumer import drained, results, results_consumer

pytestmark = pytest.mark.integration


@pytest.fixture
async def schema(database_url: str, fresh_namespace: str) -> AsyncIterator[str]:
    name = f"o_{fresh_namespace}"
    async with migrated(database_url, name, "phoenix_gateway.migrations"):
        yield name


async def stored(engine: AsyncEngine, monitor: str) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("select count(*) from check_results where monitor_id = :m"), {"m": monitor}
        )
        return int(found or 0)


async def test_results_outlive_a_database_outage_longer_than_the_retry_budget(
    servers: Servers,
    nc: Client,
    subjects: Subjects,
    database_url: str,
    schema: str,
    proxy: TcpProxy,
) -> None:
    engine = create_engine(through(database_url, proxy), schema)
    direct = create_engine(database_url, schema)
    history = History(engine, PartitionManager(engine, history_partitions(30)))
    # Two deliveries: what used to be the whole budget is spent within seconds.
    broker, consumer = results_consumer(
        servers, subjects, "history", history.record_many, max_deliver=2, batch_size=50
    )
    js = nc.jetstream()
    monitor = str(uuid.uuid4())
    before, during = results(monitor, 120)[:60], results(monitor, 120)[60:]
    await broker.connect()
    task = asyncio.create_task(consumer.run())
    try:
        for r in before:
            await js.publish(subjects.result(monitor), encode(r))
        await drained(nc, Streams(subjects).results, subjects.consumer("history"), timeout=30)

        await proxy.stop()  # PostgreSQL refuses connections and drops those it had
        for r in during:
            await js.publish(subjects.result(monitor), encode(r))
        await asyncio.sleep(12)  # several times the retry budget of two deliveries
        await proxy.start()

        async with asyncio.timeout(60):
            while await stored(direct, monitor) < len(before) + len(during):
                await asyncio.sleep(0.25)
        dead = await js.stream_info(Streams(subjects).dead_letters)
        assert dead.state.messages == 0
    finally:
        await consumer_stopped(task)
        await broker.stop()
        await engine.dispose()
        await direct.dispose()


async def consumer_stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
