"""Rebuilding a projection from the log beside the live one, then swapping it in.

1. A shadow schema ``<schema>_rebuild`` gets the service's migrations and the
   whole log replayed into it (the API keeps reading the live tables).
2. The live projector's checkpoint row is locked: the live projector pauses on
   it, so the live position ``P`` cannot move. The shadow catches up to ``P``.
3. In that same transaction the projection's tables are dropped from the live
   schema and the shadow's moved in (``alter table … set schema``), and the
   checkpoint is set to ``P``. Readers see the old tables or the new ones,
   never a mix; the live projector resumes after ``P`` on the new tables.

``verify`` does steps 1 and 2 and compares every table row by row instead of
swapping. Only projections without side effects are registered for this (the
notifier's routing publishes jobs and is not).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nats.js import JetStreamContext
from phoenix_contracts.subjects import Subjects
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from phoenix_platform.database import create_engine, migrate
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.messaging.tail import last_sequence
from phoenix_platform.projection import Projection, Projector


@dataclass(frozen=True)
class ProjectionSpec:
    """What a service says about one of its projections, for ``phoenix projections``."""

    name: str  # its checkpoint name
    schema: str
    migrations: str  # the package of the service's SQL migrations
    tables: tuple[str, ...]  # the tables it writes (and only it)
    projection: Callable[[], Projection]


@dataclass
class Outcome:
    position: int
    # table -> (live rows a fresh rebuild does not have, fresh rows the live one lacks)
    differences: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return all(counts == (0, 0) for counts in self.differences.values())


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"invalid identifier {name!r}")
    return f'"{name}"'


async def rebuild(
    spec: ProjectionSpec,
    database_url: str,
    js: JetStreamContext,
    subjects: Subjects,
    *,
    swap: bool,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Replay the log into a shadow schema; swap it in (``swap``) or compare it."""
    shadow = f"{spec.schema}_rebuild"
    # No timeout: replaying and comparing a whole projection takes as long as it
    # takes, and the live transaction stays open (locked) while the replica catches up.
    live = create_engine(database_url, spec.schema, pool_size=1, statement_timeout=0)
    replica = create_engine(database_url, shadow, pool_size=1, statement_timeout=0)
    try:
        async with live.begin() as conn:
            await conn.execute(text(f"drop schema if exists {_identifier(shadow)} cascade"))
        await migrate(replica, shadow, spec.migrations)
        projector = Projector(js, subjects, replica, spec.projection())
        target = await last_sequence(js, Streams(subjects).events, subjects.all_events)
        await projector.replay_until(target, lambda at: progress(at, target) if progress else None)
        async with live.begin() as conn:
            position = await _lock_live_position(conn, spec)
            await projector.replay_until(position)
            if swap:
                await _swap(conn, spec, shadow, position)
                outcome = Outcome(position=position)
            else:
                outcome = Outcome(position=position, differences=await _compare(conn, spec, shadow))
        async with live.begin() as conn:
            await conn.execute(text(f"drop schema if exists {_identifier(shadow)} cascade"))
        return outcome
    finally:
        await replica.dispose()
        await live.dispose()


async def _lock_live_position(conn: AsyncConnection, spec: ProjectionSpec) -> int:
    """The live projector's position, locked until our transaction ends."""
    await conn.execute(
        text(
            "insert into checkpoints (name, position) values (:n, 0) on conflict (name) do nothing"
        ),
        {"n": spec.name},
    )
    row = await conn.execute(
        text("select position from checkpoints where name = :n for update"), {"n": spec.name}
    )
    return int(row.scalar_one())


async def _swap(conn: AsyncConnection, spec: ProjectionSpec, shadow: str, position: int) -> None:
    live_schema = _identifier(spec.schema)
    for table in spec.tables:
        await conn.execute(text(f"drop table if exists {live_schema}.{_identifier(table)} cascade"))
        await conn.execute(
            text(f"alter table {_identifier(shadow)}.{_identifier(table)} set schema {live_schema}")
        )
    await conn.execute(
        text("update checkpoints set position = :p where name = :n"),
        {"p": position, "n": spec.name},
    )


async def _compare(
    conn: AsyncConnection, spec: ProjectionSpec, shadow: str
) -> dict[str, tuple[int, int]]:
    differences = {}
    for table in spec.tables:
        columns = await _compared_columns(conn, spec.schema, table)
        listed = ", ".join(_identifier(c) for c in columns)
        live_table = f"{_identifier(spec.schema)}.{_identifier(table)}"
        fresh_table = f"{_identifier(shadow)}.{_identifier(table)}"
        row = (
            await conn.execute(
                text(
                    f"select (select count(*) from (select {listed} from {live_table} except all"
                    f" select {listed} from {fresh_table}) a) as live_only, (select count(*) from"
                    f" (select {listed} from {fresh_table} except all select {listed} from"
                    f" {live_table}) b) as fresh_only"
                )
            )
        ).one()
        differences[table] = (int(row.live_only), int(row.fresh_only))
    return differences


async def _compared_columns(conn: AsyncConnection, schema: str, table: str) -> list[str]:
    """Every column but serial counters, whose values depend on retries, not on events."""
    rows = await conn.execute(
        text(
            "select column_name from information_schema.columns where table_schema = :s"
            " and table_name = :t and coalesce(column_default, '') not like 'nextval(%'"
            " order by ordinal_position"
        ),
        {"s": schema, "t": table},
    )
    return [str(name) for name in rows.scalars()]
