"""Latency of the history read path with 10,000 monitors and 90 days of rollups.

``uv run just bench-history`` (options: ``--monitors``, ``--days``, ``--minute-hours``,
``--requests``, ``--database-url``). Creates a database of its own on the local
PostgreSQL, migrates the gateway schema, fills the rollup tables directly
(server-side ``insert … select`` from ``generate_series``: no raw results), then
times the gateway's own query functions (``History.uptime``, ``Rollups.uptime``,
``Rollups.response_times``, ``Rollups.sla``, plus the monitor lookup every
endpoint does first) for ``--requests`` calls each on random monitors, in
process, without HTTP. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from phoenix_gateway.api.reports import MAX_REPORT_MONITORS, UPTIME_WINDOWS
from phoenix_gateway.readmodel.history import History, history_partitions
from phoenix_gateway.readmodel.partitions import PartitionManager
from phoenix_gateway.readmodel.queries import ReadModel
from phoenix_gateway.readmodel.rollups import Rollups
from phoenix_platform.database import create_engine, migrate
from sqlalchemy import text

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# A realistic histogram: latencies of 40 .. 400 ms, most near 100 ms.
HISTOGRAM = (
    "{"
    + ",".join(
        ["0"] * 22
        + ["2", "10", "40", "120", "300", "400", "250", "120", "50", "20", "8", "4", "2", "1"]
    )
    + "}"
)


def _rollup_insert(table: str, step: str, since: str, until: str, per_bucket: int) -> str:
    return (
        f"insert into {table} select m.id, b, m.organization_id, {per_bucket},"
        # 0..3 failed checks (and as many failed slots) per bucket, spread by a hash.
        f" {per_bucket} - (hashtext(m.id::text || b::text) & 3),"
        " hashtext(m.id::text || b::text) & 3, 0, hashtext(m.id::text || b::text) & 3,"
        f" 110.0 * {per_bucket}, 40.0, 400.0, '{HISTOGRAM}'"
        f" from monitors m cross join generate_series(cast({since} as timestamptz),"
        f" cast({until} as timestamptz), interval '{step}') as b"
    )


async def fill(url: str, monitors: int, days: int, minute_hours: int) -> dict[str, float]:
    conn = await asyncpg.connect(url, server_settings={"search_path": "gateway"})
    timings: dict[str, float] = {}
    org = str(uuid.uuid4())
    tag = str(uuid.uuid4())
    try:
        await conn.execute("set synchronous_commit = off; set maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        await conn.execute(
            "insert into monitors (id, organization_id, spec, version, created_at, updated_at)"
            " select gen_random_uuid(), $1, jsonb_build_object('name', 'm' || n, 'type', 'http',"
            " 'url', 'https://example.com', 'interval', 60, 'tag_ids',"
            " case when n <= 100 then jsonb_build_array($2::text) else '[]'::jsonb end),"
            " 1, now(), now() from generate_series(1, $3) as n",
            uuid.UUID(org),
            tag,
            monitors,
        )
        timings["monitors"] = time.perf_counter() - started
        today = "date_trunc('day', now(), 'UTC')"
        hour = "date_trunc('hour', now(), 'UTC')"
        minute = "date_trunc('minute', now(), 'UTC')"
        plan = [
            (
                "day",
                "check_rollups_day",
                "1 day",
                f"{today} - interval '{days - 1} days'",
                today,
                1440,
            ),
            (
                "hour",
                "check_rollups_hour",
                "1 hour",
                f"{hour} - interval '{days * 24 - 1} hours'",
                hour,
                60,
            ),
            (
                "minute",
                "check_rollups_minute",
                "1 minute",
                f"{minute} - interval '{minute_hours * 60 - 1} minutes'",
                minute,
                1,
            ),
        ]
        for name, table, step, since, until, per_bucket in plan:
            started = time.perf_counter()
            # Faster without the index; built again afterwards, as a bulk load would.
            await conn.execute(f"alter table {table} drop constraint {table}_pkey")
            status = await conn.execute(_rollup_insert(table, step, since, until, per_bucket))
            await conn.execute(f"alter table {table} add primary key (monitor_id, bucket_start)")
            await conn.execute(f"analyze {table}")
            timings[f"{name} ({int(status.split()[-1]):,} rows)"] = time.perf_counter() - started
        await conn.execute("analyze monitors")
    finally:
        await conn.close()
    timings["_org"] = org  # type: ignore[assignment]
    timings["_tag"] = tag  # type: ignore[assignment]
    return timings


async def measure(
    url: str, requests: int, days: int, minute_hours: int, org: str, tag: str
) -> list[tuple[str, float, float, float]]:
    engine = create_engine(url, "gateway", pool_size=2)
    history = History(engine, PartitionManager(engine, history_partitions(30)))
    rollups, read_model = Rollups(engine), ReadModel(engine)
    async with engine.connect() as conn:
        ids = [str(i) for i in (await conn.execute(text("select id from monitors"))).scalars()]
    now = datetime.now(UTC)
    rng = random.Random(7)  # noqa: S311 (which monitor to ask for, not a secret)

    async def guarded(call: Callable[[str], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            monitor = rng.choice(ids)
            await read_model.get("monitor", org, monitor)  # every endpoint's authz lookup
            return await call(monitor)

        return run

    tag_monitors = await rollups.monitors_for_report(org, None, tag, limit=MAX_REPORT_MONITORS)
    cases: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        (
            "uptime 24h/7d/30d/90d/365d",
            await guarded(lambda m: history.uptime([m], now, UPTIME_WINDOWS)),
        ),
        (
            f"uptime, a {days}-day range",
            await guarded(lambda m: rollups.uptime(m, now - timedelta(days=days), now, now)),
        ),
        (
            f"response times by the minute, {minute_hours} h",
            await guarded(
                lambda m: rollups.response_times(
                    m, "minute", now - timedelta(hours=minute_hours), now
                )
            ),
        ),
        (
            "response times by the hour, 7 d",
            await guarded(
                lambda m: rollups.response_times(m, "hour", now - timedelta(days=7), now)
            ),
        ),
        (
            "response times by the hour, 31 d",
            await guarded(
                lambda m: rollups.response_times(m, "hour", now - timedelta(days=31), now)
            ),
        ),
        (
            f"response times by the day, {days} d",
            await guarded(
                lambda m: rollups.response_times(m, "day", now - timedelta(days=days), now)
            ),
        ),
        (
            f"SLA report, tag of {len(tag_monitors)} monitors, 30 d",
            await guarded(
                lambda m: _sla(rollups, read_model, org, tag, now - timedelta(days=30), now)
            ),
        ),
        (
            f"SLA report, tag of {len(tag_monitors)} monitors, {days} d",
            await guarded(
                lambda m: _sla(rollups, read_model, org, tag, now - timedelta(days=days), now)
            ),
        ),
        (
            "status page uptime, 20 monitors, 24h/7d/30d",
            lambda: history.uptime(rng.sample(ids, 20), now),
        ),
    ]
    found = []
    for name, call in cases:
        for _ in range(10):  # warm the pool and the plan cache
            await call()
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            await call()
            samples.append((time.perf_counter() - started) * 1000)
        samples.sort()
        found.append(
            (name, samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1], samples[-1])
        )
        print(
            f"{name:55s} p50 {found[-1][1]:6.2f} ms  p95 {found[-1][2]:6.2f} ms"
            f"  max {found[-1][3]:6.2f} ms",
            flush=True,
        )
    await engine.dispose()
    return found


async def _sla(
    rollups: Rollups, read_model: ReadModel, org: str, tag: str, since: datetime, until: datetime
) -> object:
    monitors = await rollups.monitors_for_report(org, None, tag, limit=MAX_REPORT_MONITORS)
    return await rollups.sla(org, monitors, since, until, until)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=ADMIN_URL, help="a database to create ours from")
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--minute-hours", type=int, default=6, help="hours of minute rollups")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    name = f"phoenix_bench_history_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.database_url)
    await admin.execute(f'create database "{name}"')
    url = args.database_url.rsplit("/", 1)[0] + f"/{name}"
    began = time.perf_counter()
    try:
        engine = create_engine(url, "gateway")
        await migrate(engine, "gateway", "phoenix_gateway.migrations")
        await engine.dispose()
        filled = await fill(url, args.monitors, args.days, args.minute_hours)
        org, tag = str(filled.pop("_org")), str(filled.pop("_tag"))
        for step, seconds in filled.items():
            print(f"fill {step:40s} {seconds:6.1f} s", flush=True)
        results = await measure(url, args.requests, args.days, args.minute_hours, org, tag)
        conn = await asyncpg.connect(url)
        size = await conn.fetchval("select pg_size_pretty(pg_database_size(current_database()))")
        version = await conn.fetchval("show server_version")
        await conn.close()
        print(
            json.dumps(
                {
                    "monitors": args.monitors,
                    "days": args.days,
                    "requests": args.requests,
                    "database_size": size,
                    "postgres": version,
                    "python": platform.python_version(),
                    "total_seconds": round(time.perf_counter() - began, 1),
                    "queries": [
                        {
                            "query": n,
                            "p50_ms": round(a, 2),
                            "p95_ms": round(b, 2),
                            "max_ms": round(c, 2),
                        }
                        for n, a, b, c in results
                    ],
                },
                indent=1,
            )
        )
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
