"""Reads of the minute/hour/day rollups: uptime over any range, response-time
series with percentiles, SLA reports. Written by ``history.py``.

Percentiles come from each rollup's latency histogram: bucket 0 holds latencies
under 1 ms, bucket i >= 1 holds [2^((i-1)/4), 2^(i/4)) ms (four buckets per
doubling, the same function as the SQL ``history_latency_bucket``). A
percentile is the nearest-rank bucket's geometric middle, clamped to the
bucket's min and max: within 2^(1/8) - 1 ≈ 9.1 % of the exact nearest-rank
value from 1 ms to 110 s (under 1 ms: within 0.5 ms).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from phoenix_gateway.readmodel.history import (
    PERIOD_LENGTH,
    Granularity,
    percentage,
    resolution_for,
    truncate,
)

BUCKETS_PER_DOUBLING = 4
LAST_BUCKET = 68
PERCENTILE_ERROR = 2 ** (1 / (2 * BUCKETS_PER_DOUBLING)) - 1  # ≈ 0.0905


def latency_bucket(ms: float) -> int:
    """The histogram bucket of a latency (Python twin of ``history_latency_bucket``)."""
    if ms < 1:
        return 0
    return min(LAST_BUCKET, 1 + math.floor(BUCKETS_PER_DOUBLING * math.log(ms) / math.log(2)))


def percentile(
    histogram: Sequence[int], q: float, low: float | None, high: float | None
) -> float | None:
    """Nearest-rank ``q`` (0 < q <= 1) of the latencies counted in ``histogram``."""
    count = sum(histogram)
    if not count:
        return None
    rank = max(1, math.ceil(q * count))
    seen, index = 0, 0
    for index, in_bucket in enumerate(histogram):  # noqa: B007 (the bucket found is used below)
        seen += in_bucket
        if seen >= rank:
            break
    middle = 0.5 if index == 0 else 2 ** ((index - 0.5) / BUCKETS_PER_DOUBLING)
    if low is not None:
        middle = max(middle, low)
    if high is not None:
        middle = min(middle, high)
    return round(middle, 3)


@dataclass(frozen=True)
class Uptime:
    up: int
    total: int
    resolution: Granularity
    since: datetime  # start of the first bucket read
    until: datetime

    @property
    def percentage(self) -> float | None:
        return percentage(self.up, self.total)


@dataclass(frozen=True)
class LatencyPoint:
    start: datetime
    checks: int  # successful checks, whose latencies these are
    avg_ms: float | None
    min_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass(frozen=True)
class SlaRow:
    monitor_id: str
    name: str
    checks: int
    up: int
    down: int
    uptime_percentage: float | None
    downtime_seconds: float
    incidents: int


def _series(resolution: Granularity) -> str:
    return (
        "with buckets as (select generate_series(cast(:first as timestamptz) at time zone 'UTC',"
        " cast(:last as timestamptz) at time zone 'UTC', cast(:step as interval))"
        " at time zone 'UTC' as start)"
        " select b.start, coalesce(r.up, 0) as up, r.latency_sum, r.latency_min, r.latency_max,"
        " r.histogram"
        f" from buckets b left join check_rollups_{resolution} r"  # a Literal, not input
        " on r.monitor_id = :m and r.bucket_start = b.start order by b.start"
    )


class Rollups:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def uptime(
        self, monitor_id: str, since: datetime, until: datetime, now: datetime
    ) -> Uptime:
        """Up checks over checks in the buckets overlapping [since, until)."""
        resolution = resolution_for(since, until, now)
        first = truncate(since, resolution)
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "select coalesce(sum(up), 0) as up, coalesce(sum(total), 0) as total"
                        f" from check_rollups_{resolution} where monitor_id = :m"
                        " and bucket_start >= :first and bucket_start < :until"
                    ),
                    {"m": monitor_id, "first": first, "until": until},
                )
            ).one()
        return Uptime(int(row.up), int(row.total), resolution, first, until)

    async def response_times(
        self, monitor_id: str, resolution: Granularity, since: datetime, until: datetime
    ) -> list[LatencyPoint]:
        """One point per bucket (dense), from the one holding ``since`` to ``until``."""
        first = truncate(since, resolution)
        last = truncate(until - timedelta(microseconds=1), resolution)
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(_series(resolution)),
                {"m": monitor_id, "first": first, "last": last, "step": PERIOD_LENGTH[resolution]},
            )
            points = []
            for r in rows:
                histogram = r.histogram or []
                points.append(
                    LatencyPoint(
                        start=r.start,
                        checks=r.up,
                        avg_ms=r.latency_sum / r.up if r.up else None,
                        min_ms=r.latency_min,
                        p50_ms=percentile(histogram, 0.50, r.latency_min, r.latency_max),
                        p95_ms=percentile(histogram, 0.95, r.latency_min, r.latency_max),
                        p99_ms=percentile(histogram, 0.99, r.latency_min, r.latency_max),
                        max_ms=r.latency_max,
                    )
                )
            return points

    async def sla(
        self,
        organization_id: str,
        monitors: Sequence[tuple[str, str, float]],
        since: datetime,
        until: datetime,
        now: datetime,
    ) -> tuple[Granularity, list[SlaRow]]:
        """Per monitor (id, name, interval): checks, uptime, downtime and incidents in the range.

        Downtime: each failed due slot stands for one interval, capped at its bucket."""
        resolution = resolution_for(since, until, now)
        first = truncate(since, resolution)
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "with m as (select * from unnest(cast(:ids as uuid[]), cast(:intervals as"
                    " float8[])) as t(id, interval_s)),"
                    " r as (select m.id, coalesce(sum(r.total), 0) as checks,"
                    " coalesce(sum(r.up), 0) as up, coalesce(sum(r.down), 0) as down,"
                    " coalesce(sum(least(r.down_slots * m.interval_s, :bucket_s)), 0) as downtime"
                    f" from m left join check_rollups_{resolution} r on r.monitor_id = m.id"
                    " and r.bucket_start >= :first and r.bucket_start < :until group by m.id),"
                    " i as (select monitor_id, count(*) as incidents from incidents"
                    " where organization_id = :o and monitor_id = any(cast(:ids as uuid[]))"
                    " and started_at < :until and (resolved_at is null or resolved_at >= :since)"
                    " group by monitor_id)"
                    " select r.*, coalesce(i.incidents, 0) as incidents"
                    " from r left join i on i.monitor_id = r.id"
                ),
                {
                    "ids": [m[0] for m in monitors],
                    "intervals": [float(m[2]) for m in monitors],
                    "bucket_s": PERIOD_LENGTH[resolution].total_seconds(),
                    "first": first,
                    "since": since,
                    "until": until,
                    "o": organization_id,
                },
            )
            found = {str(r.id): r for r in rows}
        report = []
        for monitor_id, name, _ in monitors:
            r = found[monitor_id]
            report.append(
                SlaRow(
                    monitor_id=monitor_id,
                    name=name,
                    checks=int(r.checks),
                    up=int(r.up),
                    down=int(r.down),
                    uptime_percentage=percentage(int(r.up), int(r.checks)),
                    downtime_seconds=float(r.downtime),
                    incidents=int(r.incidents),
                )
            )
        return resolution, report

    async def monitors_for_report(
        self, organization_id: str, monitor_id: str | None, tag_id: str | None, *, limit: int
    ) -> list[tuple[str, str, float]]:
        """(id, name, interval) of the organization's monitors: one by id, or the first
        ``limit`` by name with a tag."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "select id, spec->>'name' as name, cast(spec->>'interval' as float8) as iv"
                    " from monitors where organization_id = :o"
                    " and (cast(:m as uuid) is null or id = cast(:m as uuid))"
                    " and (cast(:tag as text) is null"
                    "      or spec->'tag_ids' @> jsonb_build_array(cast(:tag as text)))"
                    " order by spec->>'name', id limit :limit"
                ),
                {"o": organization_id, "m": monitor_id, "tag": tag_id, "limit": limit},
            )
            return [(str(r.id), r.name, r.iv or 60.0) for r in rows]
