"""Readiness shows a stuck projection: not ready while stalled, ready again once it moves."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from phoenix_contracts.subjects import Subjects
from phoenix_gateway.readmodel.projection import ReadModelProjection
from phoenix_platform.database import create_engine
from phoenix_platform.health import HealthServer
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.projection import Projector
from sqlalchemy import text

from tests.infra import Servers, migrated
from tests.integration.projections_kit import running_stack, supervised
from tests.integration.proxy import TcpProxy, through
from tests.integration.test_projection_parking import append, monitor

pytestmark = pytest.mark.integration
ORG = str(uuid.uuid4())


async def readyz(server: HealthServer) -> tuple[int, dict[str, object]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def until(check: object, wanted: bool, timeout: float = 40.0) -> None:
    async with asyncio.timeout(timeout):
        while await check() != wanted:  # type: ignore[operator]
            await asyncio.sleep(0.2)


@pytest.fixture
async def health() -> AsyncIterator[list[HealthServer]]:
    servers: list[HealthServer] = []
    yield servers
    for server in servers:
        await server.stop()


async def test_a_projection_blocked_on_its_checkpoint_turns_not_ready_then_ready_again(
    servers: Servers, nc: Client, subjects: Subjects, health: list[HealthServer]
) -> None:
    js = nc.jetstream()
    store = EventStore(js, subjects)
    async with running_stack(servers.admin_database_url, js, subjects, stall_after=2) as stack:
        gateway = stack.projectors["gateway-read-model"]
        server = HealthServer(
            "gateway", {"projection": gateway.is_ready}, {"projection": gateway.lag}
        )
        await server.start("127.0.0.1", 0)
        health.append(server)
        first = await append(store, monitor(str(uuid.uuid4()), ORG, "one"))
        assert all((await stack.wait_for(first)).values())
        assert (await readyz(server))[0] == 200

        async with stack.engines["gateway"].connect() as blocker:
            await blocker.execute(
                text("select 1 from checkpoints where name = 'gateway-read-model' for update")
            )
            last = await append(store, monitor(str(uuid.uuid4()), ORG, "two"))
            await until(gateway.is_ready, False)
            status, body = await readyz(server)
            assert status == 503
            details = body["details"]["projection"]  # type: ignore[index]
            assert details["lag"] == 1
            assert details["stalled_seconds"] >= 2
            # Only the stuck one: the others applied the event and stay ready.
            assert await stack.projectors["auth-identity"].is_ready()
            assert await stack.projectors["notifier-routing"].is_ready()
            await blocker.rollback()

        assert await gateway.wait_for(last, timeout=30)
        await until(gateway.is_ready, True)
        assert (await readyz(server))[0] == 200


async def test_a_burst_being_worked_through_never_reads_as_stalled(
    servers: Servers, nc: Client, subjects: Subjects
) -> None:
    js = nc.jetstream()
    store = EventStore(js, subjects)
    async with running_stack(servers.admin_database_url, js, subjects, stall_after=10) as stack:
        first = await append(store, monitor(str(uuid.uuid4()), ORG, "a"))
        assert all((await stack.wait_for(first)).values())
        events = [monitor(str(uuid.uuid4()), ORG, f"m{n}") for n in range(300)]
        publishing = asyncio.create_task(append(store, *events))
        seen: list[bool] = []
        while not publishing.done() or not all(
            p.applied >= publishing.result() for p in stack.projectors.values()
        ):
            seen.extend([await p.is_ready() for p in stack.projectors.values()])
            await asyncio.sleep(0.1)
        assert seen
        assert all(seen)


async def test_a_projection_whose_database_is_gone_is_not_ready_and_parks_nothing(
    nc: Client, subjects: Subjects, database_url: str, proxy: TcpProxy
) -> None:
    js = nc.jetstream()
    store = EventStore(js, subjects)
    schema = f"r_{subjects.namespace}"
    async with migrated(database_url, schema, "phoenix_gateway.migrations") as direct:
        engine = create_engine(through(database_url, proxy), schema)
        projector = Projector(js, subjects, engine, ReadModelProjection(), stall_after=2)
        task = asyncio.create_task(supervised(projector))
        try:
            assert await projector.wait_for(
                await append(store, monitor(str(uuid.uuid4()), ORG, "a")), 30
            )
            assert await projector.is_ready()

            await proxy.stop()
            last = await append(store, monitor(str(uuid.uuid4()), ORG, "b"))
            await until(projector.is_ready, False)
            await asyncio.sleep(3)  # well past the point where a data error would be parked
            await proxy.start()

            assert await projector.wait_for(last, timeout=60)
            await until(projector.is_ready, True)
            dead = await js.stream_info(Streams(subjects).dead_letters)
            assert dead.state.messages == 0
            async with direct.connect() as conn:
                assert await conn.scalar(text("select count(*) from monitors")) == 2
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await engine.dispose()
