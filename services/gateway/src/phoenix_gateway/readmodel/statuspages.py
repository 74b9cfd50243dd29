"""Status pages in the read model: projecting their events, and the reads the public side needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from phoenix_contracts.statuspages import (
    StatusPageCreated,
    StatusPageDeleted,
    StatusPageEvent,
    StatusPageMonitorsSet,
    StatusPageUpdated,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Guarded by version (or keyed by id), so a replayed event changes nothing.
_STATEMENTS = {
    StatusPageCreated: (
        "insert into status_pages (id, organization_id, slug, spec, password_hash, version,"
        " created_at, updated_at) values (:id, :org, :slug, cast(:spec as jsonb), :pw, :v, :t, :t)"
        " on conflict (id) do nothing"
    ),
    StatusPageUpdated: (
        "update status_pages set slug = :slug, spec = cast(:spec as jsonb),"
        " password_hash = coalesce(:pw, password_hash), version = :v, updated_at = :t"
        " where id = :id and version < :v"
    ),
    StatusPageMonitorsSet: (
        "update status_pages set spec = jsonb_set(spec, '{monitors}', cast(:monitors as jsonb)),"
        " version = :v, updated_at = :t where id = :id and version < :v"
    ),
    StatusPageDeleted: "delete from status_pages where id = :id",
}


async def apply_status_page(
    conn: AsyncConnection, event: StatusPageEvent, params: dict[str, object]
) -> None:
    match event:
        case StatusPageCreated() | StatusPageUpdated():
            params |= {
                "slug": event.spec.slug,
                "spec": msgspec.json.encode(event.spec).decode(),
                "pw": event.password_hash,
            }
        case StatusPageMonitorsSet():
            params["monitors"] = msgspec.json.encode(event.monitors).decode()
    await conn.execute(text(_STATEMENTS[type(event)]), params)


UPDATES_SHOWN = 20  # newest written updates a public page shows per incident


class StatusPageReads:
    """What the public pages read: by slug, across organizations (the slug is the address)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def by_slug(self, slug: str) -> dict[str, Any] | None:
        """The page at ``slug``; the oldest one should a race ever have given two the slug."""
        return await self._one(
            "select id, organization_id, slug, spec, password_hash, updated_at"
            " from status_pages where slug = :s order by created_at, id limit 1",
            {"s": slug},
        )

    async def page_ids_of(self, organization_id: str) -> list[str]:
        async with self._engine.connect() as conn:
            ids = await conn.execute(
                text("select id from status_pages where organization_id = :o"),
                {"o": organization_id},
            )
            return [str(i) for i in ids.scalars()]

    async def monitors(self, organization_id: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The organization's monitors among ``ids`` (deleted ones drop out)."""
        if not ids:
            return []
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "select id, spec ->> 'name' as name, status, paused from monitors"
                    " where organization_id = :o and id = any(cast(:ids as uuid[]))"
                ),
                {"o": organization_id, "ids": list(ids)},
            )
            return [dict(r) for r in rows.mappings()]

    async def open_incidents(
        self, organization_id: str, monitor_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Unresolved incidents of these monitors, newest first, with their newest written
        updates."""
        if not monitor_ids:
            return []
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "select i.id, i.monitor_id, i.title, i.status, i.started_at,"
                    " coalesce((select json_agg(json_build_object('at', u.at, 'message', u.message)"
                    " order by u.at) from (select at, message from incident_updates"
                    " where incident_id = i.id and kind = 'update'"
                    " order by at desc limit :updates) u), '[]') as updates"
                    " from incidents i where i.organization_id = :o and i.status <> 'resolved'"
                    " and i.monitor_id = any(cast(:ids as uuid[]))"
                    " order by i.started_at desc, i.id desc limit 50"
                ),
                {"o": organization_id, "ids": list(monitor_ids), "updates": UPDATES_SHOWN},
            )
            return [dict(r) for r in rows.mappings()]

    async def _one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(text(sql), params)).mappings().one_or_none()
        return dict(row) if row else None
