"""What a public status page shows, built from the read model and cached in Redis per slug.

A cached entry is dropped by :mod:`.invalidation` when something it shows
changes, and expires after ``CACHE_SECONDS`` anyway (uptime percentages move
with every check; half a minute of lag there is fine).

Filling the cache races with invalidation: a view built from rows read just
before a change must not be stored just after the change dropped the old one.
Each page has a generation counter that invalidation bumps; a view is stored
only if the generation read before building it is still current (WATCH).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec
from phoenix_contracts.statuspages import StatusPageSpec
from phoenix_platform.logging import get_logger
from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

from phoenix_gateway.readmodel.history import History
from phoenix_gateway.readmodel.statuspages import StatusPageReads
from phoenix_gateway.statuspage.passwords import fingerprint

CACHE_SECONDS = 30
GENERATION_SECONDS = 3600
# Worst first. Paused monitors are shown as paused and say nothing about the whole.
SEVERITY = {"down": 5, "degraded": 4, "maintenance": 3, "unknown": 2, "up": 1}

log = get_logger(__name__)


class PublicMonitor(msgspec.Struct, kw_only=True):
    id: str
    display_name: str
    status: str  # up | degraded | down | maintenance | unknown | paused
    uptime: dict[str, float | None] | None  # window (24h, 7d, 30d) → percentage


class PublicIncidentUpdate(msgspec.Struct, kw_only=True):
    at: datetime
    message: str


class PublicIncident(msgspec.Struct, kw_only=True):
    id: str
    monitor_id: str
    title: str
    status: str
    started_at: datetime
    updates: list[PublicIncidentUpdate]


class PublicView(msgspec.Struct, kw_only=True):
    slug: str
    name: str
    description: str
    theme: str
    footer_text: str
    show_uptime_percentage: bool
    auto_refresh_interval: int
    status: str  # the worst of its monitors
    monitors: list[PublicMonitor]
    incidents: list[PublicIncident]
    generated_at: datetime


class CachedPage(msgspec.Struct, kw_only=True):
    page_id: str
    public: bool
    password: str = ""  # fingerprint of the password in force; "" = none
    view: PublicView | None = None  # None for a private page


def public_status(status: str, paused: bool) -> str:
    if paused:
        return "paused"
    return status if status in SEVERITY else "unknown"  # pending: no verdict yet


def overall_status(statuses: Iterable[str]) -> str:
    """down > degraded > maintenance > unknown > up; paused ones are left out; none → unknown."""
    counted = [s for s in statuses if s in SEVERITY]
    return max(counted, key=SEVERITY.__getitem__) if counted else "unknown"


def public_title(title: str, monitor_name: str, display_name: str) -> str:
    """Incident titles name the monitor; a page shows the name the page gives it."""
    if display_name and monitor_name and title.startswith(monitor_name + " "):
        return display_name + title[len(monitor_name) :]
    return title


class StatusPageViews:
    def __init__(self, reads: StatusPageReads, history: History, redis: Redis, namespace: str):
        self._reads = reads
        self._history = history
        self._redis = redis
        self._prefix = f"{namespace}:status-page"
        self._decoder = msgspec.json.Decoder(CachedPage)

    def _entry_key(self, slug: str) -> str:
        return f"{self._prefix}:slug:{slug}"

    def _index_key(self, page_id: str) -> str:
        return f"{self._prefix}:slugs-of:{page_id}"

    def _generation_key(self, page_id: str) -> str:
        return f"{self._prefix}:generation:{page_id}"

    async def load(self, slug: str) -> CachedPage | None:
        """The page at ``slug`` (None: no such page), from the cache when it has it.

        Without Redis the page is still served, built from the read model each
        time: a status page matters most when things are broken.
        """
        try:
            return await self._load_cached(slug)
        except RedisError as exc:
            log.warning("status_page.cache_unavailable", error=f"{type(exc).__name__}: {exc}")
            row = await self._reads.by_slug(slug)
            return await self._build(row) if row is not None else None

    async def _load_cached(self, slug: str) -> CachedPage | None:
        cached = await self._redis.get(self._entry_key(slug))
        if cached is not None:
            return self._decoder.decode(cached)
        first = await self._reads.by_slug(slug)
        if first is None:
            return None
        page_id = str(first["id"])
        generation = _text(await self._redis.get(self._generation_key(page_id)))
        row = await self._reads.by_slug(slug)  # read again: after the generation we hold
        if row is None or str(row["id"]) != page_id:
            return None
        page = await self._build(row)
        await self._store(slug, page, generation)
        return page

    async def forget(self, page_ids: Iterable[str]) -> None:
        """Drop every cached slug of these pages and stop views built before now being stored."""
        for page_id in page_ids:
            generation = self._generation_key(page_id)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(generation)
                pipe.expire(generation, GENERATION_SECONDS)
                pipe.smembers(self._index_key(page_id))
                *_, slugs = await pipe.execute()
            keys = [self._entry_key(s.decode()) for s in slugs]
            await self._redis.delete(self._index_key(page_id), *keys)

    async def _store(self, slug: str, page: CachedPage, generation: str | None) -> None:
        key = self._generation_key(page.page_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                if _text(await pipe.get(key)) != generation:
                    return  # changed while we built it: the next reader builds afresh
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.set(self._entry_key(slug), msgspec.json.encode(page), ex=CACHE_SECONDS)
                pipe.sadd(self._index_key(page.page_id), slug)
                pipe.expire(self._index_key(page.page_id), CACHE_SECONDS * 2)
                await pipe.execute()
            except WatchError:
                return

    async def _build(self, row: dict[str, Any]) -> CachedPage:
        spec = msgspec.convert(row["spec"], StatusPageSpec)
        page_id, organization_id = str(row["id"]), str(row["organization_id"])
        password = fingerprint(row["password_hash"]) if row["password_hash"] else ""
        if not spec.is_public:
            return CachedPage(page_id=page_id, public=False)
        listed = [m for _, m in sorted(enumerate(spec.monitors), key=lambda p: (p[1].weight, p[0]))]
        found = {
            str(r["id"]): r
            for r in await self._reads.monitors(organization_id, [m.monitor_id for m in listed])
        }
        shown = [m for m in listed if m.monitor_id in found]
        now = datetime.now(UTC)
        uptime = (
            await self._history.uptime([m.monitor_id for m in shown], now)
            if spec.show_uptime_percentage
            else {}
        )
        monitors = [
            PublicMonitor(
                id=m.monitor_id,
                display_name=m.display_name or found[m.monitor_id]["name"],
                status=public_status(found[m.monitor_id]["status"], found[m.monitor_id]["paused"]),
                uptime=uptime.get(m.monitor_id) if spec.show_uptime_percentage else None,
            )
            for m in shown
        ]
        names = {m.id: m.display_name for m in monitors}
        incidents = [
            PublicIncident(
                id=str(i["id"]),
                monitor_id=str(i["monitor_id"]),
                title=public_title(
                    i["title"], found[str(i["monitor_id"])]["name"], names[str(i["monitor_id"])]
                ),
                status=i["status"],
                started_at=i["started_at"],
                updates=msgspec.convert(i["updates"], list[PublicIncidentUpdate], strict=False),
            )
            for i in await self._reads.open_incidents(organization_id, list(names))
        ]
        view = PublicView(
            slug=spec.slug,
            name=spec.name,
            description=spec.description,
            theme=spec.theme,
            footer_text=spec.footer_text,
            show_uptime_percentage=spec.show_uptime_percentage,
            auto_refresh_interval=spec.auto_refresh_interval,
            status=overall_status(m.status for m in monitors),
            monitors=monitors,
            incidents=incidents,
            generated_at=now,
        )
        return CachedPage(page_id=page_id, public=True, password=password, view=view)


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
