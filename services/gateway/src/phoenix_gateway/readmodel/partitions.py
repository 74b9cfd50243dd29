"""Daily partitions of the history tables: created ahead, dropped after retention.

``check_results`` (and the minute rollups) are partitioned by range on a
timestamp, one partition per UTC day, named ``<table>_pYYYYMMDD``. Dropping a
day is instant and leaves no dead rows to vacuum, unlike ``delete``.

The gateway runs :meth:`PartitionManager.maintain` at start and every hour:
today .. today + ``AHEAD_DAYS`` exist, days older than the table's retention
are dropped. The writer also calls :meth:`ensure` for the days of each batch,
so a result from a skewed clock finds its partition. Replicas may run this
together: every change is made under one advisory lock.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from phoenix_platform.logging import get_logger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

AHEAD_DAYS = 2
MAINTAIN_EVERY = 3600.0
log = get_logger(__name__)


@dataclass(frozen=True)
class DailyPartitions:
    table: str
    keep_days: int  # a day older than today - keep_days is dropped

    def oldest_kept(self, today: date) -> date:
        return today - timedelta(days=self.keep_days)

    def name(self, day: date) -> str:
        return f"{self.table}_p{day:%Y%m%d}"


@dataclass(frozen=True)
class PrunedTable:
    """A small table trimmed by ``delete`` instead: rows whose ``column`` is older go."""

    table: str
    column: str
    keep_days: int


def utc_today() -> date:
    return datetime.now(UTC).date()


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


class PartitionManager:
    def __init__(
        self, engine: AsyncEngine, tables: Sequence[DailyPartitions | PrunedTable]
    ) -> None:
        self._engine = engine
        self.tables = {t.table: t for t in tables if isinstance(t, DailyPartitions)}
        self._pruned = [t for t in tables if isinstance(t, PrunedTable)]
        self._known: set[tuple[str, date]] = set()

    async def ensure(self, days: Iterable[date], today: date | None = None) -> None:
        """Every table has a partition for each of ``days`` its retention keeps
        (cached: cheap when they exist)."""
        today = today or utc_today()
        missing = [
            (t, d)
            for d in set(days)
            for t, spec in self.tables.items()
            if (t, d) not in self._known and d >= spec.oldest_kept(today)
        ]
        if not missing:
            return
        async with self._engine.begin() as conn:
            await _lock(conn)
            for table, day in missing:
                await self._create(conn, self.tables[table], day)
        self._known.update(missing)

    async def maintain(self, today: date | None = None) -> list[str]:
        """Create today .. today + AHEAD_DAYS; drop what retention no longer keeps."""
        today = today or utc_today()
        await self.ensure((today + timedelta(days=n) for n in range(AHEAD_DAYS + 1)), today)
        dropped: list[str] = []
        async with self._engine.begin() as conn:
            await _lock(conn)
            for spec in self.tables.values():
                cutoff = spec.oldest_kept(today)
                for name, day in await _partitions(conn, spec.table):
                    if day < cutoff:
                        await conn.execute(text(f'drop table if exists "{name}"'))
                        self._known.discard((spec.table, day))
                        dropped.append(name)
            for pruned in self._pruned:
                cutoff_at = _start(today - timedelta(days=pruned.keep_days))
                await conn.execute(
                    text(f'delete from "{pruned.table}" where "{pruned.column}" < :cutoff'),
                    {"cutoff": cutoff_at},
                )
        if dropped:
            log.info("history.partitions_dropped", partitions=dropped)
        return dropped

    async def run(self) -> None:
        while True:
            try:
                await self.maintain()
            except Exception as exc:  # a failed round is retried at the next one
                log.warning("history.partitions_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(MAINTAIN_EVERY)

    async def _create(self, conn: AsyncConnection, spec: DailyPartitions, day: date) -> None:
        # Table names come from our own code; bounds are bound parameters.
        # DDL takes no bind parameters, so the bounds are ISO literals we produce.
        start, end = _start(day).isoformat(), _start(day + timedelta(days=1)).isoformat()
        await conn.execute(
            text(
                f'create table if not exists "{spec.name(day)}" partition of "{spec.table}"'
                f" for values from ('{start}') to ('{end}')"
            )
        )


async def _partitions(conn: AsyncConnection, table: str) -> list[tuple[str, date]]:
    rows = await conn.execute(
        text(
            "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
            " where i.inhparent = cast(:parent as regclass)"
        ),
        {"parent": table},
    )
    found = []
    for (name,) in rows:
        suffix = name.rsplit("_p", 1)[-1]
        if len(suffix) == 8 and suffix.isdigit():
            found.append((name, date(int(suffix[:4]), int(suffix[4:6]), int(suffix[6:]))))
    return found


async def _lock(conn: AsyncConnection) -> None:
    key = zlib.crc32(b"phoenix-history-partitions")
    await conn.execute(text("select pg_advisory_xact_lock(:key)"), {"key": key})
