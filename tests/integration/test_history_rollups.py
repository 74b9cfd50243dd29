"""Check history on real PostgreSQL: daily partitions, retention, rollups that a replay
cannot inflate, and percentiles within their documented error."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
from phoenix_contracts.checks import CheckCompleted, Timings
from phoenix_gateway.readmodel.history import History, history_partitions
from phoenix_gateway.readmodel.partitions import PartitionManager
from phoenix_gateway.readmodel.rollups import PERCENTILE_ERROR, Rollups, latency_bucket
from phoenix_platform.database import _execute_script, create_engine, migrate
from phoenix_platform.ids import uuid7
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.infra import migrated

pytestmark = pytest.mark.integration
ORG = str(uuid.uuid4())


@pytest.fixture
async def engine(database_url: str, fresh_namespace: str) -> AsyncIterator[AsyncEngine]:
    async with migrated(
        database_url, f"h_{fresh_namespace}", "phoenix_gateway.migrations"
    ) as engine:
        yield engine


@pytest.fixture
def partitions(engine: AsyncEngine) -> PartitionManager:
    return PartitionManager(engine, history_partitions(30))


@pytest.fixture
def history(engine: AsyncEngine, partitions: PartitionManager) -> History:
    return History(engine, partitions)


def result(
    monitor_id: str,
    at: datetime,
    outcome: str = "up",
    ms: float = 100.0,
    region: str = "default",
    due_at: datetime | None = None,
) -> CheckCompleted:
    return CheckCompleted(
        result_id=uuid7(),
        job_id="j",
        monitor_id=monitor_id,
        organization_id=ORG,
        region=region,
        due_at=due_at or at,
        started_at=at,
        finished_at=at,
        outcome=outcome,  # type: ignore[arg-type]
        timings=Timings(total_ms=ms),
    )


async def rollups(engine: AsyncEngine, granularity: str) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "select monitor_id, bucket_start, total, up, down, down_slots, latency_sum,"
                f" latency_min, latency_max, histogram from check_rollups_{granularity}"
                " order by monitor_id, bucket_start"
            )
        )
        return [tuple(r) for r in rows]


async def partition_names(engine: AsyncEngine, table: str) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
                " where i.inhparent = cast(:t as regclass)"
            ),
            {"t": table},
        )
        return {r[0] for r in rows}


async def test_partitions_are_created_ahead_and_dropped_after_retention_keeping_rollups(
    engine: AsyncEngine, history: History, partitions: PartitionManager
) -> None:
    today = datetime.now(UTC).date()
    await partitions.maintain(today)
    names = await partition_names(engine, "check_results")
    assert {f"check_results_p{today + timedelta(days=n):%Y%m%d}" for n in range(3)} <= names
    monitor = str(uuid.uuid4())
    now = datetime.now(UTC)
    assert await history.record_many([result(monitor, now), result(monitor, now, "down")]) == 2

    later = today + timedelta(days=31)  # today is now older than 30 days of retention
    dropped = await partitions.maintain(later)
    assert f"check_results_p{today:%Y%m%d}" in dropped
    assert f"check_rollups_minute_p{today:%Y%m%d}" in dropped
    names = await partition_names(engine, "check_results")
    assert f"check_results_p{later + timedelta(days=2):%Y%m%d}" in names
    assert not any(n <= f"check_results_p{today:%Y%m%d}" for n in names)
    assert len(await rollups(engine, "hour")) == 1  # kept 90 days
    assert len(await rollups(engine, "day")) == 1  # kept 2 years


async def test_a_result_older_than_the_retention_is_not_recorded(history: History) -> None:
    old = datetime.now(UTC) - timedelta(days=45)
    assert await history.record_many([result(str(uuid.uuid4()), old)]) == 0


async def test_replaying_a_batch_does_not_count_anything_twice(
    engine: AsyncEngine, history: History
) -> None:
    monitor = str(uuid.uuid4())
    now = datetime.now(UTC).replace(second=30)
    batch = [result(monitor, now, ms=float(ms)) for ms in (10, 20, 30)]
    batch += [result(monitor, now + timedelta(seconds=1), "down", ms=5000)]
    batch += [result(monitor, now, "skipped")]
    assert await history.record_many(batch) == 5
    once = {g: await rollups(engine, g) for g in ("minute", "hour", "day")}
    assert await history.record_many(batch) == 0
    assert await history.record_many(batch[:2] + batch[:2]) == 0  # duplicates within a batch
    twice = {g: await rollups(engine, g) for g in ("minute", "hour", "day")}
    assert twice == once
    for granularity in ("minute", "hour", "day"):
        (row,) = once[granularity]
        # total, up, down, down slots, latency sum/min/max of the up checks
        assert row[2:9] == (4, 3, 1, 1, 60.0, 10.0, 30.0)
        assert sum(row[9]) == 3  # type: ignore[call-overload]


async def test_a_slot_that_failed_in_two_regions_is_one_slot_of_downtime(
    engine: AsyncEngine, history: History
) -> None:
    monitor = str(uuid.uuid4())
    due = datetime.now(UTC)
    await history.record_many([result(monitor, due, "down", region="eu", due_at=due)])
    await history.record_many([result(monitor, due, "down", region="us", due_at=due)])
    (row,) = await rollups(engine, "hour")
    assert row[4:6] == (2, 1)  # two failed checks, one failed slot
    (bucket,) = await history.buckets(monitor, "hour", due, due + timedelta(seconds=1))
    assert bucket.down == 2
    assert bucket.downtime_seconds(60, timedelta(hours=1)) == 60


@pytest.mark.parametrize(
    "latencies",
    [
        [float(n) for n in range(1, 1001)],  # uniform 1 .. 1000 ms
        [20.0 * math.exp(n / 300) for n in range(2000)],  # long tail up to ~15 s
        [0.3] * 90 + [250.0] * 10,  # mostly sub-millisecond, a slow tenth
    ],
)
async def test_percentiles_are_within_the_documented_error(
    engine: AsyncEngine, history: History, latencies: list[float]
) -> None:
    monitor = str(uuid.uuid4())
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    await history.record_many([result(monitor, start, ms=ms) for ms in latencies])
    (point,) = await Rollups(engine).response_times(
        monitor, "hour", start, start + timedelta(hours=1)
    )
    ordered = sorted(latencies)
    for q, found in ((0.5, point.p50_ms), (0.95, point.p95_ms), (0.99, point.p99_ms)):
        exact = ordered[max(1, math.ceil(q * len(ordered))) - 1]
        assert found is not None
        if exact >= 1:
            assert abs(found - exact) <= PERCENTILE_ERROR * exact + 0.001, (q, found, exact)
        else:
            assert abs(found - exact) <= 0.5
    assert point.min_ms == pytest.approx(ordered[0])
    assert point.max_ms == pytest.approx(ordered[-1])
    assert point.checks == len(latencies)


async def test_the_python_and_sql_latency_buckets_agree(engine: AsyncEngine) -> None:
    samples = [0, 0.99, 1, 1.18, 1.19, 2, 3.3, 1000, 54321.0, 10.0**9]
    assert [latency_bucket(ms) for ms in samples] == [0, 0, 1, 1, 2, 5, 7, 40, 63, 68]
    async with engine.connect() as conn:
        found = await conn.scalar(
            text(
                "select array_agg(history_latency_bucket(ms) order by n)"
                " from unnest(cast(:ms as float8[])) with ordinality as t(ms, n)"
            ),
            {"ms": samples},
        )
    assert found == [latency_bucket(ms) for ms in samples]


async def test_existing_results_are_partitioned_and_rolled_up_by_the_migration(
    database_url: str, fresh_namespace: str
) -> None:
    schema = f"m_{fresh_namespace}"
    engine = create_engine(database_url, schema)
    files = sorted(
        f for f in resources.files("phoenix_gateway.migrations").iterdir() if f.name[:4] < "0009"
    )
    monitor, now = str(uuid.uuid4()), datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"create schema {schema}"))
            await conn.execute(
                text(
                    f"create table {schema}.schema_migrations (name text primary key,"
                    " applied_at timestamptz not null default now())"
                )
            )
            for f in files:
                await _execute_script(conn, schema, f.read_text())
                await conn.execute(
                    text(f"insert into {schema}.schema_migrations (name) values (:n)"),
                    {"n": f.name},
                )
            for n, (days, outcome) in enumerate([(0, "up"), (0, "down"), (3, "up")]):
                await conn.execute(
                    text(
                        f"insert into {schema}.check_results (result_id, monitor_id,"
                        " organization_id, region, due_at, checked_at, outcome, response_ms)"
                        " values (:id, :m, :o, 'default', :at, :at, :outcome, :ms)"
                    ),
                    {
                        "id": str(uuid.uuid4()),
                        "m": monitor,
                        "o": ORG,
                        "at": now - timedelta(days=days, seconds=n),
                        "outcome": outcome,
                        "ms": 42.0,
                    },
                )
        assert await migrate(engine, schema, "phoenix_gateway.migrations") == [
            f.name
            for f in sorted(resources.files("phoenix_gateway.migrations").iterdir())
            if f.name.endswith(".sql") and f.name[:4] >= "0009"
        ]
        async with engine.connect() as conn:
            assert await conn.scalar(text("select count(*) from check_results")) == 3
            assert await conn.scalar(text("select sum(total) from check_rollups_day")) == 3
            assert await conn.scalar(text("select sum(down_slots) from check_rollups_hour")) == 1
        assert len(await partition_names(engine, "check_results")) >= 4
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"drop schema if exists {schema} cascade"))
        await engine.dispose()
