"""Dropping cached status pages when something they show changes.

Follows the event log from its end (an ordered consumer, like every other
follower) rather than core NATS: it knows each event's sequence, so it waits
until the gateway's own read model has applied the event before dropping the
cache. Dropping it earlier would let the next reader rebuild the page from
rows that do not show the change yet, and cache that for half a minute.

Any status change, monitor, incident or status-page event of an organization
drops the cached pages of that organization: pages are few per organization,
and finding exactly which page lists which monitor is not worth a table.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, get_args

from nats.js import JetStreamContext
from phoenix_contracts.base import Event
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.incidents import IncidentEvent
from phoenix_contracts.monitors import (
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorUpdated,
)
from phoenix_contracts.statuspages import StatusPageEvent
from phoenix_contracts.subjects import Subjects
from phoenix_platform.follower import Follower
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.codec import decode_event
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.messaging.tail import follow, last_sequence

from phoenix_gateway.statuspage.view import StatusPageViews

log = get_logger(__name__)

SHOWN = (
    MonitorStatusChanged,
    MonitorUpdated,
    MonitorPaused,
    MonitorResumed,
    MonitorDeleted,
    *get_args(IncidentEvent),
    *get_args(StatusPageEvent),
)


def shown_on_a_page(event: Event) -> bool:
    return isinstance(event, SHOWN)


class CacheInvalidator:
    def __init__(
        self,
        js: JetStreamContext,
        subjects: Subjects,
        read_model: Follower,
        views: StatusPageViews,
        pages_of: Callable[[str], Coroutine[Any, Any, list[str]]],
    ) -> None:
        self._js = js
        self._subjects = subjects
        self._read_model = read_model
        self._views = views
        self._pages_of = pages_of

    async def run(self) -> None:
        stream = Streams(self._subjects).events
        start = await last_sequence(self._js, stream, self._subjects.all_events) + 1
        async for batch in follow(self._js, stream, self._subjects.all_events, start):
            organizations, pages = set(), set()
            for entry in batch:
                try:
                    event = decode_event(entry.data)
                except Exception as exc:  # the read model's projector parks it
                    log.debug("status_page.undecodable_event", error=str(exc))
                    continue
                if shown_on_a_page(event):
                    organizations.add(event.organization_id)
                if isinstance(event, get_args(StatusPageEvent)):
                    pages.add(event.aggregate_id)  # a deleted page is no longer in the table
            if not organizations:
                continue
            if not await self._read_model.wait_for(batch[-1].sequence, timeout=10):
                log.warning(
                    "status_page.cache_dropped_before_read_model", sequence=batch[-1].sequence
                )
            for organization in organizations:
                pages.update(await self._pages_of(organization))
            await self._views.forget(pages)
