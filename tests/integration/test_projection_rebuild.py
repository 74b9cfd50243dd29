"""``phoenix projections verify|rebuild`` on a real log and database, with a live projector."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.client import Client
from phoenix_contracts.base import Event
from phoenix_contracts.monitors import MonitorCreated, MonitorPaused, MonitorSpec, MonitorUpdated
from phoenix_contracts.subjects import Subjects
from phoenix_contracts.tags import TagCreated
from phoenix_gateway.readmodel.projection import SPEC, ReadModelProjection
from phoenix_platform.database import create_engine, migrate
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.messaging.streams import provision, stream_configs
from phoenix_platform.projection import Projector
from phoenix_platform.rebuild import rebuild
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.infra import Servers, create_database, delete_streams, drop_database, new_namespace
from tests.integration.projections_kit import phoenix

pytestmark = pytest.mark.integration
ORG = "0190a000-0000-7000-8000-000000000001"


def envelope(aggregate_id: str, version: int) -> dict[str, object]:
    return {
        "event_id": uuid7(),
        "aggregate_id": aggregate_id,
        "aggregate_version": version,
        "occurred_at": datetime.now(UTC),
        "organization_id": ORG,
    }


def spec(name: str) -> MonitorSpec:
    return MonitorSpec(name=name, type="http", url="https://example.com")


async def history(store: EventStore, monitors: int) -> None:
    """Monitors created, renamed and some paused; a tag per ten monitors."""
    for n in range(monitors):
        monitor = uuid7()
        await store.append([MonitorCreated(**envelope(monitor, 1), spec=spec(f"m{n}"))], 0)
        _, sequence = await store.load("monitor", monitor)
        later: list[Event] = [MonitorUpdated(**envelope(monitor, 2), spec=spec(f"m{n}-v2"))]
        if n % 3 == 0:
            later.append(MonitorPaused(**envelope(monitor, 3)))
        await store.append(later, sequence)
        if n % 10 == 0:
            await store.append(
                [TagCreated(**envelope(uuid7(), 1), name=f"t{n}", color="#ff0000")], 0
            )


@pytest.fixture
async def database(servers: Servers, subjects: Subjects) -> AsyncIterator[tuple[str, AsyncEngine]]:
    url = await create_database(servers.admin_database_url, f"phoenix_{subjects.namespace}")
    engine = create_engine(url, "gateway")
    await migrate(engine, "gateway", "phoenix_gateway.migrations")
    yield url, engine
    await engine.dispose()
    await drop_database(servers.admin_database_url, f"phoenix_{subjects.namespace}")


async def cli(
    servers: Servers, url: str, namespace: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return await phoenix(servers, url, namespace, "projections", *args)


async def count(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(f"select count(*) from {table}")) or 0)


async def test_verify_finds_drift_and_rebuild_swaps_in_a_fresh_copy_under_a_live_projector(
    nc: Client, subjects: Subjects, servers: Servers, database: tuple[str, AsyncEngine]
) -> None:
    url, engine = database
    store = EventStore(nc.jetstream(), subjects)
    await history(store, 60)
    live = Projector(nc.jetstream(), subjects, engine, ReadModelProjection())
    running = asyncio.create_task(live.run())
    try:
        await asyncio.wait_for(live.wait_caught_up(), 30)
        clean = await cli(servers, url, subjects.namespace, "verify", SPEC.name)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "equal to a fresh rebuild" in clean.stdout

        async with engine.begin() as conn:  # drift a bug or a hand edit could cause
            await conn.execute(text("update monitors set status = 'up' where paused"))
            await conn.execute(text("delete from tags where name = 't0'"))
        drifted = await cli(servers, url, subjects.namespace, "verify", SPEC.name)
        assert drifted.returncode == 3
        assert "monitors\t20 live rows not in a fresh rebuild, 20 missing" in drifted.stdout
        assert "tags\t0 live rows not in a fresh rebuild, 1 missing" in drifted.stdout
        assert "incidents\tequal" in drifted.stdout

        rebuilt = await cli(servers, url, subjects.namespace, "rebuild", SPEC.name)
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert "events" in rebuilt.stderr  # the progress line
        assert await count(engine, "tags") == 6

        # The live projector carries on, now writing into the swapped-in tables.
        await history(store, 5)
        newest = (await nc.jetstream().stream_info(subjects.stream("EVENTS"))).state.last_seq
        assert await live.wait_for(newest, timeout=20)
        assert await count(engine, "monitors") == 65
        again = await cli(servers, url, subjects.namespace, "verify", SPEC.name)
        assert again.returncode == 0, again.stdout
    finally:
        running.cancel()


async def checkpoint(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        position = await conn.scalar(text("select coalesce(max(position), 0) from checkpoints"))
    return int(position or 0)


async def test_a_projector_killed_at_random_points_ends_equal_to_a_clean_rebuild(
    nc: Client, subjects: Subjects, servers: Servers, database: tuple[str, AsyncEngine]
) -> None:
    """SIGKILL, not a cancelled task: the process dies mid-batch and the database
    aborts what it had not committed, as in production."""
    url, engine = database
    await history(EventStore(nc.jetstream(), subjects), 500)
    newest = (await nc.jetstream().stream_info(subjects.stream("EVENTS"))).state.last_seq
    chance = random.Random(7)
    positions = []
    for _ in range(24):  # a couple of dozen deaths
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.projector_process",
            servers.nats_url,
            subjects.namespace,
            url,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), 30)  # "started"
        # Killed at a random moment once it has committed something more, so the
        # deaths land mid-replay however slow the machine is today.
        last = positions[-1] if positions else 0
        deadline = asyncio.get_running_loop().time() + 30
        while await checkpoint(engine) <= last and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(chance.uniform(0.0, 0.3))
        process.kill()
        await process.wait()
        positions.append(await checkpoint(engine))
        if positions[-1] >= newest:
            break
    assert positions == sorted(positions)  # progress is kept across kills
    assert any(0 < p < newest for p in positions), positions  # kills landed mid-replay
    finisher = Projector(nc.jetstream(), subjects, engine, ReadModelProjection())
    task = asyncio.create_task(finisher.run())
    assert await finisher.wait_for(newest, timeout=60)
    task.cancel()
    outcome = await rebuild(SPEC, url, nc.jetstream(), subjects, swap=False)
    assert outcome.position == newest
    assert outcome.equal, outcome.differences
    assert await count(engine, "monitors") == 500


async def test_export_then_import_then_rebuild_gives_the_same_read_model(
    nc: Client,
    subjects: Subjects,
    servers: Servers,
    database: tuple[str, AsyncEngine],
    tmp_path: Any,
) -> None:
    url, engine = database
    await history(EventStore(nc.jetstream(), subjects), 40)
    original = Projector(nc.jetstream(), subjects, engine, ReadModelProjection())
    newest = (await nc.jetstream().stream_info(subjects.stream("EVENTS"))).state.last_seq
    task = asyncio.create_task(original.run())
    assert await original.wait_for(newest, timeout=30)
    task.cancel()

    dump = tmp_path / "log.jsonl"
    env = {**os.environ, "PHOENIX_NATS_URL": servers.nats_url}
    exported = subprocess.run(
        [sys.executable, "-m", "phoenix_cli", "events", "export", "-o", str(dump)],
        env={**env, "PHOENIX_NAMESPACE": subjects.namespace},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    copy = Subjects(new_namespace())
    await provision(nc.jetstream(), stream_configs(copy))
    try:
        imported = subprocess.run(
            [sys.executable, "-m", "phoenix_cli", "events", "import", str(dump)],
            env={**env, "PHOENIX_NAMESPACE": copy.namespace},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert imported.returncode == 0, imported.stderr
        replica = create_engine(url, "gateway_copy")
        await migrate(replica, "gateway_copy", "phoenix_gateway.migrations")
        rebuilt = Projector(nc.jetstream(), copy, replica, ReadModelProjection())
        task = asyncio.create_task(rebuilt.run())
        assert await rebuilt.wait_for(newest, timeout=30)
        task.cancel()
        await replica.dispose()
        async with engine.connect() as conn:
            for table in SPEC.tables:
                differ = await conn.scalar(
                    text(
                        f"select count(*) from ((select * from gateway.{table} except all"
                        f" select * from gateway_copy.{table}) union all (select * from"
                        f" gateway_copy.{table} except all select * from gateway.{table})) d"
                    )
                )
                assert differ == 0, table
        assert await count(engine, "gateway_copy.monitors") == 40
    finally:
        await delete_streams(servers.nats_url, copy.namespace)
