"""Reads from the gateway's read model, always scoped to one organization."""

from __future__ import annotations

from typing import Any

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
}


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
        self, kind: str, organization_id: str, *, limit: int, after: str | None = None
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
                        {"o": organization_id, "after": after, "limit": limit},
                    )
                )
                .mappings()
                .all()
            )
        return [dict(row) for row in rows]

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

    async def channel_ids(self, organization_id: str) -> frozenset[str]:
        async with self._engine.connect() as conn:
            ids = (
                await conn.execute(
                    text("select id from notification_channels where organization_id = :o"),
                    {"o": organization_id},
                )
            ).scalars()
            return frozenset(str(i) for i in ids)
