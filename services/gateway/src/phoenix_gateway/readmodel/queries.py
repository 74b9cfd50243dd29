"""Reads from the gateway's read model, always scoped to one organization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_MONITOR_COLUMNS = (
    "id, spec, status, status_reason, status_changed_at, paused, created_at, updated_at"
)
_TABLES = {
    "monitor": ("monitors", _MONITOR_COLUMNS),
    "channel": ("notification_channels", "id, name, type, config, is_default, created_at"),
    "alert_rule": ("alert_rules", "id, spec, created_at"),
    "maintenance": ("maintenance_windows", "id, spec, active, created_at, updated_at"),
    "tag": ("tags", "id, name, color, description, created_at, updated_at"),
    # never the password hash itself
    "status_page": (
        "status_pages",
        "id, spec, password_hash <> '' as has_password, created_at, updated_at",
    ),
}
TIMELINE_LIMIT = 500
Rows = list[dict[str, Any]]  # (``ReadModel.list`` shadows the builtin in the class body)
_INCIDENT_COLUMNS = (
    "id, monitor_id, title, cause, status, severity, started_at, acknowledged_at,"
    " resolved_at, duration_seconds, updated_at"
)


@dataclass(frozen=True)
class MonitorFilter:
    status: str | None = None
    type: str | None = None
    tag_id: str | None = None
    text: str | None = None  # in the name, URL or host name, any case


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ReadModel:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, kind: str, organization_id: str, item_id: str) -> dict[str, Any] | None:
        table, columns = _TABLES[kind]
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        text(
                            f"select {columns} from {table} where id = :id and organization_id = :o"
                        ),
                        {"id": item_id, "o": organization_id},
                    )
                )
                .mappings()
                .one_or_none()
            )
        return dict(row) if row else None

    async def list(
        self, kind: str, organization_id: str, *, limit: int, after: UUID | str | None = None
    ) -> list[dict[str, Any]]:
        """Oldest first, keyset-paginated on the (time-ordered) id."""
        table, columns = _TABLES[kind]
        async with self._engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        text(
                            f"select {columns} from {table} where organization_id = :o"
                            " and (cast(:after as uuid) is null or id > cast(:after as uuid))"
                            " order by id limit :limit"
                        ),
                        {
                            "o": organization_id,
                            "after": str(after) if after else None,
                            "limit": limit,
                        },
                    )
                )
                .mappings()
                .all()
            )
        return [dict(row) for row in rows]

    async def monitors(
        self, organization_id: str, *, limit: int, after: UUID | None, where: MonitorFilter
    ) -> Rows:
        """Like :meth:`list`, narrowed by status, type, tag and text."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    f"select {_MONITOR_COLUMNS} from monitors where organization_id = :o"
                    " and (cast(:after as uuid) is null or id > cast(:after as uuid))"
                    " and (cast(:status as text) is null or status = :status)"
                    " and (cast(:type as text) is null or spec->>'type' = :type)"
                    " and (cast(:tag as text) is null"
                    "      or spec->'tag_ids' @> jsonb_build_array(cast(:tag as text)))"
                    " and (cast(:like as text) is null or spec->>'name' ilike :like"
                    "      or spec->>'url' ilike :like or spec->>'hostname' ilike :like)"
                    " order by id limit :limit"
                ),
                {
                    "o": organization_id,
                    "after": str(after) if after else None,
                    "status": where.status,
                    "type": where.type,
                    "tag": where.tag_id,
                    "like": _like(where.text) if where.text else None,
                    "limit": limit,
                },
            )
            return [dict(row) for row in rows.mappings()]

    async def by_push_token(self, token: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        text(
                            "select id, organization_id, spec from monitors"
                            " where spec ->> 'push_token' = :t and spec ->> 'push_token' <> ''"
                            " and not paused"
                        ),
                        {"t": token},
                    )
                )
                .mappings()
                .one_or_none()
            )
        return dict(row) if row else None

    async def monitor_count(self, organization_id: str) -> int:
        return await self.count("monitor", organization_id)

    async def count(self, kind: str, organization_id: str) -> int:
        table, _ = _TABLES[kind]
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                text(f"select count(*) from {table} where organization_id = :o"),
                {"o": organization_id},
            )
            return int(count or 0)

    async def channel_ids(self, organization_id: str) -> frozenset[str]:
        async with self._engine.connect() as conn:
            ids = (
                await conn.execute(
                    text("select id from notification_channels where organization_id = :o"),
                    {"o": organization_id},
                )
            ).scalars()
            return frozenset(str(i) for i in ids)

    async def monitor_ids(self, organization_id: str) -> frozenset[str]:
        async with self._engine.connect() as conn:
            ids = await conn.execute(
                text("select id from monitors where organization_id = :o"), {"o": organization_id}
            )
            return frozenset(str(i) for i in ids.scalars())

    async def status_page_slugs(self, slug: str) -> dict[str, str]:
        """``slug`` → the id of every page holding it (any organization: slugs are global)."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text("select slug, id from status_pages where slug = :s"), {"s": slug}
            )
            return {slug: str(page_id) for slug, page_id in rows}

    async def tag_names(self, organization_id: str) -> dict[str, str]:
        """The organization's tags: lower-cased name → tag id."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text("select lower(name), id from tags where organization_id = :o"),
                {"o": organization_id},
            )
            return {name: str(tag_id) for name, tag_id in rows}

    async def tags_by_id(self, organization_id: str, ids: Sequence[str]) -> Rows:
        """The organization's tags among ``ids`` (unknown or foreign ids are left out)."""
        if not ids:
            return []
        async with self._engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        text(
                            f"select {_TABLES['tag'][1]} from tags where organization_id = :o"
                            " and id = any(cast(:ids as uuid[])) order by id"
                        ),
                        {"o": organization_id, "ids": list(ids)},
                    )
                )
                .mappings()
                .all()
            )
        return [dict(row) for row in rows]

    async def incident(self, organization_id: str, incident_id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        text(
                            f"select {_INCIDENT_COLUMNS} from incidents"
                            " where id = :id and organization_id = :o"
                        ),
                        {"id": incident_id, "o": organization_id},
                    )
                )
                .mappings()
                .one_or_none()
            )
        return dict(row) if row else None

    async def incidents(
        self,
        organization_id: str,
        *,
        limit: int,
        before: UUID | str | None = None,
        status: str | None = None,
        monitor_id: str | None = None,
    ) -> Rows:
        """Newest first, keyset-paginated on (started_at, id): ``before`` is the last id seen.

        Incident ids derive from results (not time-ordered), so the key needs the time.
        """
        async with self._engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        text(
                            f"select {_INCIDENT_COLUMNS} from incidents where organization_id = :o"
                            " and (cast(:before as uuid) is null or (started_at, id) <"
                            " (select started_at, id from incidents as c"
                            " where c.id = cast(:before as uuid)))"
                            " and (cast(:status as text) is null or status = :status)"
                            " and (cast(:mon as uuid) is null or monitor_id = cast(:mon as uuid))"
                            " order by started_at desc, id desc limit :limit"
                        ),
                        {
                            "o": organization_id,
                            "before": str(before) if before else None,
                            "status": status,
                            "mon": monitor_id,
                            "limit": limit,
                        },
                    )
                )
                .mappings()
                .all()
            )
        return [dict(row) for row in rows]

    async def incident_timeline(self, incident_id: str, *, limit: int = TIMELINE_LIMIT) -> Rows:
        """The ``limit`` newest entries, oldest first (members may add updates without
        end; an answer must not grow with them)."""
        async with self._engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        text(
                            "select * from (select event_id, at, kind, message, by_user_id"
                            " from incident_updates where incident_id = :i"
                            " order by at desc, event_id desc limit :limit) newest"
                            " order by at, event_id"
                        ),
                        {"i": incident_id, "limit": limit},
                    )
                )
                .mappings()
                .all()
            )
        return [dict(row) for row in rows]
