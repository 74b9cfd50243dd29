"""Check history: raw results, hour/day statistics and uptime, all from ``check_results``.

Fed by the gateway's own durable consumer on the RESULTS stream
(``<ns>-gateway-history``). Every insert is keyed by the result id and does
nothing on conflict, so a redelivered result changes nothing: the effect is
exactly once although delivery is at least once.

Every read of the table lives in this module, so partitioning the table by
time and answering long ranges from rollups later changes this file only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from phoenix_contracts.checks import CheckCompleted
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

Period = Literal["hour", "day"]
PERIOD_LENGTH: dict[str, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
# Windows of the uptime a status page shows.
UPTIME_WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}

_INSERT = text(
    "insert into check_results (result_id, monitor_id, organization_id, region, due_at,"
    " checked_at, outcome, response_ms, status_code, error_class, message)"
    " values (:id, :m, :o, :r, :due, :at, :outcome, :ms, :code, :err, :msg)"
    " on conflict (result_id) do nothing"
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

# Dense buckets: an hour without a check is a row with total 0, so charts need no gap logic.
# Response times are of successful checks: a timeout's duration is not a latency.
_BUCKETS = text(
    "with buckets as (select generate_series(cast(:first as timestamptz),"
    " cast(:last as timestamptz), cast(:step as interval)) as start)"
    " select b.start,"
    " count(r.result_id) filter (where r.outcome in ('up', 'down')) as total,"
    " count(r.result_id) filter (where r.outcome = 'up') as up,"
    " count(r.result_id) filter (where r.outcome = 'down') as down,"
    " avg(r.response_ms) filter (where r.outcome = 'up') as avg_ms,"
    " min(r.response_ms) filter (where r.outcome = 'up') as min_ms,"
    " max(r.response_ms) filter (where r.outcome = 'up') as max_ms,"
    " count(distinct r.due_at) filter (where r.outcome = 'down') as down_slots"
    " from buckets b left join check_results r on r.monitor_id = :m"
    " and r.checked_at >= b.start and r.checked_at < b.start + cast(:step as interval)"
    " and r.checked_at >= cast(:since as timestamptz)"
    " and r.checked_at < cast(:until as timestamptz)"
    " group by b.start order by b.start"
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
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, result: CheckCompleted) -> None:
        """Store one result; the same result again is a no-op (redelivery is harmless)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                _INSERT,
                {
                    "id": result.result_id,
                    "m": result.monitor_id,
                    "o": result.organization_id,
                    "r": result.region,
                    "due": result.due_at,
                    "at": result.started_at,
                    "outcome": result.outcome,
                    "ms": result.timings.total_ms,
                    "code": result.status_code,
                    "err": result.error_class,
                    "msg": result.message[:2000],
                },
            )

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
        """One bucket per period from the one holding ``since`` up to ``until`` (exclusive)."""
        step = PERIOD_LENGTH[period]
        first = truncate(since, period)
        last = truncate(until - timedelta(microseconds=1), period)
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                _BUCKETS,
                {
                    "m": monitor_id,
                    "first": first,
                    "last": last,
                    "step": step,
                    "since": since,
                    "until": until,
                },
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
        """monitor id → window name → percentage of up checks (None: no check in the window)."""
        if not monitor_ids:
            return {}
        names = list(windows)
        columns = ", ".join(
            f"count(*) filter (where outcome = 'up' and checked_at >= :since{i}) as up{i},"
            f" count(*) filter (where checked_at >= :since{i}) as total{i}"
            for i in range(len(names))
        )
        params: dict[str, Any] = {f"since{i}": now - windows[name] for i, name in enumerate(names)}
        oldest = min(params.values())
        statement = text(
            f"select monitor_id, {columns} from check_results"  # columns built here, no user input
            " where monitor_id = any(cast(:ids as uuid[])) and outcome in ('up', 'down')"
            " and checked_at >= :oldest and checked_at <= :now group by monitor_id"
        )
        found: dict[str, dict[str, float | None]] = {m: dict.fromkeys(names) for m in monitor_ids}
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                statement, {**params, "ids": list(monitor_ids), "oldest": oldest, "now": now}
            )
            for row in rows.mappings():
                found[str(row["monitor_id"])] = {
                    name: (
                        round(100.0 * row[f"up{i}"] / row[f"total{i}"], 3)
                        if row[f"total{i}"]
                        else None
                    )
                    for i, name in enumerate(names)
                }
        return found


def truncate(moment: datetime, period: Period) -> datetime:
    """The start of the UTC hour or day holding ``moment``."""
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if period == "day" else moment
