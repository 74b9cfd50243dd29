"""Check history: raw results in ``check_results``, rolled up per minute, hour and day.

Fed by the gateway's own durable consumer on the RESULTS stream
(``<ns>-gateway-history``) in batches. One statement per batch inserts the raw
rows (``on conflict do nothing``: keyed by (checked_at, result_id), and a
result's checked_at never changes) and adds *only the rows it inserted* to the
rollups, so a redelivered result changes neither the history nor a count: the
effect is exactly once although delivery is at least once.

Raw results live in daily partitions (``partitions.py``); a result older than
the retention is dropped before the insert, or a replay of it would count it a
second time in the rollups after its raw row was gone.

Every read and write of the raw table lives in this module; reads of the
rollups for the API's long ranges are in ``rollups.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from phoenix_contracts.checks import CheckCompleted
from phoenix_platform.logging import get_logger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from phoenix_gateway.readmodel.partitions import (
    DailyPartitions,
    PartitionManager,
    PrunedTable,
    utc_today,
)

Period = Literal["hour", "day"]
Granularity = Literal["minute", "hour", "day"]
PERIOD_LENGTH: dict[str, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
# How long each rollup is kept (minute: daily partitions dropped; hour, day: rows deleted).
ROLLUP_KEEP_DAYS: dict[str, int] = {"minute": 7, "hour": 90, "day": 730}
# Windows of the uptime a status page shows.
UPTIME_WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
log = get_logger(__name__)


def history_partitions(results_retention_days: int) -> list[DailyPartitions | PrunedTable]:
    """What the partition manager keeps: raw results by the setting, rollups by the constants."""
    return [
        DailyPartitions("check_results", results_retention_days),
        DailyPartitions("check_rollups_minute", ROLLUP_KEEP_DAYS["minute"]),
        PrunedTable("check_down_slots", "due_at", results_retention_days + 1),
        PrunedTable("check_rollups_hour", "bucket_start", ROLLUP_KEEP_DAYS["hour"]),
        PrunedTable("check_rollups_day", "bucket_start", ROLLUP_KEEP_DAYS["day"]),
    ]


def _rollup_upsert(granularity: Granularity) -> str:
    """Add the batch's inserted rows to one rollup table (additive merge, never replayed)."""
    table = f"check_rollups_{granularity}"
    return (
        f"{granularity}_rows as (insert into {table} as r (monitor_id, bucket_start,"
        " organization_id, total, up, down, degraded, down_slots, latency_sum, latency_min,"
        " latency_max, histogram)"
        f" select monitor_id, date_trunc('{granularity}', checked_at, 'UTC'),"
        " (array_agg(organization_id) filter (where organization_id is not null))[1],"
        " count(outcome), count(*) filter (where outcome = 'up'),"
        " count(*) filter (where outcome = 'down'), count(*) filter (where outcome = 'degraded'),"
        " sum(slot), coalesce(sum(response_ms) filter (where outcome = 'up'), 0),"
        " min(response_ms) filter (where outcome = 'up'),"
        " max(response_ms) filter (where outcome = 'up'),"
        " coalesce(history_histogram(history_latency_bucket(response_ms))"
        "   filter (where outcome = 'up'), '{}')"
        f" from counted where checked_at >= cast(:oldest_{granularity} as timestamptz)"
        " group by 1, 2"
        " on conflict (monitor_id, bucket_start) do update set"
        " total = r.total + excluded.total, up = r.up + excluded.up,"
        " down = r.down + excluded.down, degraded = r.degraded + excluded.degraded,"
        " down_slots = r.down_slots + excluded.down_slots,"
        " latency_sum = r.latency_sum + excluded.latency_sum,"
        " latency_min = least(r.latency_min, excluded.latency_min),"
        " latency_max = greatest(r.latency_max, excluded.latency_max),"
        " histogram = history_histogram_merge(r.histogram, excluded.histogram)"
        " returning 1)"
    )


# One statement, one transaction: raw rows, new down slots, three rollups.
# ``counted`` holds the inserted rows that count (not skipped) plus one row
# per down slot this batch saw first (outcome null: it adds to down_slots only).
_RECORD = text(
    "with input as (select * from unnest(cast(:ids as uuid[]), cast(:monitors as uuid[]),"
    " cast(:orgs as uuid[]), cast(:regions as text[]), cast(:due as timestamptz[]),"
    " cast(:at as timestamptz[]), cast(:outcomes as text[]), cast(:ms as float8[]),"
    " cast(:codes as int[]), cast(:errors as text[]), cast(:messages as text[]))"
    " as t(result_id, monitor_id, organization_id, region, due_at, checked_at, outcome,"
    " response_ms, status_code, error_class, message)),"
    " inserted as (insert into check_results (result_id, monitor_id, organization_id, region,"
    " due_at, checked_at, outcome, response_ms, status_code, error_class, message)"
    " select * from input on conflict do nothing"
    " returning monitor_id, organization_id, due_at, checked_at, outcome, response_ms),"
    " new_slots as (insert into check_down_slots (monitor_id, due_at)"
    " select distinct monitor_id, due_at from inserted where outcome = 'down'"
    " on conflict do nothing returning monitor_id, due_at),"
    " counted as (select monitor_id, organization_id, checked_at, outcome, response_ms, 0 as slot"
    " from inserted where outcome <> 'skipped'"
    " union all select i.monitor_id, null, min(i.checked_at), null, null, 1"
    " from inserted i join new_slots s on s.monitor_id = i.monitor_id and s.due_at = i.due_at"
    " where i.outcome = 'down' group by i.monitor_id, i.due_at),"
    f" {_rollup_upsert('minute')}, {_rollup_upsert('hour')}, {_rollup_upsert('day')}"
    " select count(*) from inserted"
)

_PAGE = text(
    "select result_id, region, checked_at, outcome, response_ms, status_code, error_class,"
    " message from check_results where monitor_id = :m and organization_id = :o"
    " and (cast(:outcome as text) is null or outcome = cast(:outcome as text))"
    " and (cast(:since as timestamptz) is null or checked_at >= cast(:since as timestamptz))"
    " and (cast(:until as timestamptz) is null or checked_at < cast(:until as timestamptz))"
    " and (cast(:after_at as timestamptz) is null"
    "      or (checked_at, result_id) < (cast(:after_at as timestamptz), cast(:after_id as uuid)))"
    " order by checked_at desc, result_id desc limit :limit"
)


# Dense buckets from the rollups: an hour without a check is a row with total 0,
# so charts need no gap logic. The series runs in UTC (no daylight saving steps).
# Response times are of successful checks: a timeout's duration is not a latency.
def _buckets_statement(period: Granularity) -> Any:
    return text(
        "with buckets as (select generate_series(cast(:first as timestamptz) at time zone 'UTC',"
        " cast(:last as timestamptz) at time zone 'UTC', cast(:step as interval))"
        " at time zone 'UTC' as start)"
        " select b.start, coalesce(r.total, 0) as total, coalesce(r.up, 0) as up,"
        " coalesce(r.down, 0) as down, r.latency_sum / nullif(r.up, 0) as avg_ms,"
        " r.latency_min as min_ms, r.latency_max as max_ms,"
        " coalesce(r.down_slots, 0) as down_slots"
        f" from buckets b left join check_rollups_{period} r"  # period: a Literal, not input
        " on r.monitor_id = :m and r.bucket_start = b.start order by b.start"
    )


@dataclass(frozen=True)
class Bucket:
    start: datetime
    total: int
    up: int
    down: int
    avg_ms: float | None
    min_ms: float | None
    max_ms: float | None
    down_slots: int  # distinct due times with a failed check (regions counted once)

    @property
    def uptime_percentage(self) -> float | None:
        return round(100.0 * self.up / self.total, 3) if self.total else None

    def downtime_seconds(self, interval: float, length: timedelta) -> float:
        """Estimate: each failed slot stands for one interval of downtime, within the bucket."""
        return min(self.down_slots * interval, length.total_seconds())


class History:
    def __init__(self, engine: AsyncEngine, partitions: PartitionManager) -> None:
        self._engine = engine
        self._partitions = partitions

    async def record(self, result: CheckCompleted) -> None:
        """Store one result; the same result again is a no-op (redelivery is harmless)."""
        await self.record_many([result])

    async def record_many(self, results: Sequence[CheckCompleted]) -> int:
        """Store a batch and add it to the rollups in one transaction; how many were new."""
        today = utc_today()
        oldest = self._partitions.tables["check_results"].oldest_kept(today)
        fresh = {r.result_id: r for r in results if r.started_at.astimezone(UTC).date() >= oldest}
        if len(fresh) < len(results):
            log.info("history.too_old_dropped", count=len(results) - len(fresh))
        if not fresh:
            return 0
        rows = list(fresh.values())
        await self._partitions.ensure(_days(rows))
        async with self._engine.begin() as conn:
            inserted = await conn.scalar(
                _RECORD,
                {
                    "ids": [r.result_id for r in rows],
                    "monitors": [r.monitor_id for r in rows],
                    "orgs": [r.organization_id for r in rows],
                    "regions": [r.region for r in rows],
                    "due": [r.due_at for r in rows],
                    "at": [r.started_at for r in rows],
                    "outcomes": [r.outcome for r in rows],
                    "ms": [r.timings.total_ms for r in rows],
                    "codes": [r.status_code for r in rows],
                    "errors": [r.error_class for r in rows],
                    "messages": [r.message[:2000] for r in rows],
                    **{
                        f"oldest_{g}": _start_of(today - timedelta(days=days))
                        for g, days in ROLLUP_KEEP_DAYS.items()
                    },
                },
            )
        return int(inserted or 0)

    async def page(
        self,
        organization_id: str,
        monitor_id: str,
        *,
        limit: int,
        after: tuple[datetime, str] | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first, keyset-paginated on (checked_at, result_id); ``after`` is the last seen."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                _PAGE,
                {
                    "m": monitor_id,
                    "o": organization_id,
                    "outcome": outcome,
                    "since": since,
                    "until": until,
                    "after_at": after[0] if after else None,
                    "after_id": after[1] if after else None,
                    "limit": limit,
                },
            )
            return [dict(row) for row in rows.mappings()]

    async def buckets(
        self, monitor_id: str, period: Period, since: datetime, until: datetime
    ) -> list[Bucket]:
        """One bucket per period from the one holding ``since`` up to the one holding
        ``until`` (whole buckets: the rollups know no finer edges)."""
        first = truncate(since, period)
        last = truncate(until - timedelta(microseconds=1), period)
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                _buckets_statement(period),
                {"m": monitor_id, "first": first, "last": last, "step": PERIOD_LENGTH[period]},
            )
            return [
                Bucket(
                    start=row.start,
                    total=row.total,
                    up=row.up,
                    down=row.down,
                    avg_ms=row.avg_ms,
                    min_ms=row.min_ms,
                    max_ms=row.max_ms,
                    down_slots=row.down_slots,
                )
                for row in rows
            ]

    async def uptime(
        self,
        monitor_ids: Sequence[str],
        now: datetime,
        windows: Mapping[str, timedelta] = UPTIME_WINDOWS,
    ) -> dict[str, dict[str, float | None]]:
        """monitor id → window name → percentage of up checks (None: no check in the window).

        Each window is read from the coarsest rollup that fits it (:func:`resolution_for`)
        and starts at the start of the bucket holding ``now - window``."""
        found: dict[str, dict[str, float | None]] = {m: dict.fromkeys(windows) for m in monitor_ids}
        if not monitor_ids:
            return found
        by_resolution: dict[Granularity, dict[str, datetime]] = {}
        for name, length in windows.items():
            resolution = resolution_for(now - length, now, now)
            by_resolution.setdefault(resolution, {})[name] = truncate(now - length, resolution)
        async with self._engine.connect() as conn:
            for resolution, starts in by_resolution.items():
                names = list(starts)
                columns = ", ".join(
                    f"sum(up) filter (where bucket_start >= :since{i}) as up{i},"
                    f" sum(total) filter (where bucket_start >= :since{i}) as total{i}"
                    for i in range(len(names))
                )
                params: dict[str, Any] = {f"since{i}": starts[n] for i, n in enumerate(names)}
                statement = text(
                    f"select monitor_id, {columns} from check_rollups_{resolution}"  # no input
                    " where monitor_id = any(cast(:ids as uuid[]))"
                    " and bucket_start >= :oldest and bucket_start <= :now group by monitor_id"
                )
                rows = await conn.execute(
                    statement,
                    {
                        **params,
                        "ids": list(monitor_ids),
                        "oldest": min(starts.values()),
                        "now": now,
                    },
                )
                for row in rows.mappings():
                    for i, name in enumerate(names):
                        found[str(row["monitor_id"])][name] = percentage(
                            row[f"up{i}"], row[f"total{i}"]
                        )
        return found


def percentage(up: int | None, total: int | None) -> float | None:
    return round(100.0 * (up or 0) / total, 3) if total else None


def resolution_for(since: datetime, until: datetime, now: datetime) -> Granularity:
    """The coarsest rollup that still shows a range well, among those that still hold its
    start: up to 6 hours by the minute, up to 8 days by the hour, beyond by the day."""
    span = until - since
    if span <= timedelta(hours=6) and since >= now - timedelta(days=ROLLUP_KEEP_DAYS["minute"]):
        return "minute"
    if span <= timedelta(days=8) and since >= now - timedelta(days=ROLLUP_KEEP_DAYS["hour"]):
        return "hour"
    return "day"


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _days(results: Sequence[CheckCompleted]) -> set[date]:
    return {r.started_at.astimezone(UTC).date() for r in results}


def truncate(moment: datetime, period: Granularity) -> datetime:
    """The start of the UTC minute, hour or day holding ``moment``."""
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    if period == "minute":
        return moment
    moment = moment.replace(minute=0)
    return moment.replace(hour=0) if period == "day" else moment
