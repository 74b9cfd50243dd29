"""``GET /api/v1/stream``: status changes, check results and incidents, as Server-Sent Events.

One NATS subscription per gateway process feeds every open stream; each
connection gets only its organization's messages, mapped to HTTP shapes
(events never leave over HTTP as they are stored). A client that cannot keep
up loses its oldest messages rather than holding memory: the queue is bounded.
A comment every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import get
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.identity import Principal
from phoenix_contracts.incidents import IncidentAcknowledged, IncidentOpened, IncidentResolved
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.codec import decode_event

QUEUE_SIZE = 1000
KEEPALIVE_SECONDS = 15.0
_results = msgspec.json.Decoder(CheckCompleted)


def to_message(
    subject: str, data: bytes, subjects: Subjects
) -> tuple[str, str, dict[str, Any]] | None:
    """(organization, event name, payload) for what a live view shows, else None."""
    if subject.startswith(subjects.namespace + ".res."):
        result = _results.decode(data)
        return (
            result.organization_id,
            "check",
            {
                "monitor_id": result.monitor_id,
                "outcome": result.outcome,
                "region": result.region,
                "status_code": result.status_code,
                "latency_ms": result.timings.total_ms,
                "checked_at": result.finished_at.isoformat(),
                "message": result.message,
            },
        )
    event = decode_event(data)
    match event:
        case MonitorStatusChanged():
            return (
                event.organization_id,
                "status",
                {
                    "monitor_id": event.monitor_id,
                    "status": event.status,
                    "previous": event.previous,
                    "reason": event.reason,
                    "at": event.occurred_at.isoformat(),
                },
            )
        case IncidentOpened() | IncidentAcknowledged() | IncidentResolved():
            kind = {IncidentOpened: "opened", IncidentAcknowledged: "acknowledged"}.get(
                type(event), "resolved"
            )
            return (
                event.organization_id,
                "incident",
                {
                    "incident_id": event.aggregate_id,
                    "change": kind,
                    "at": event.occurred_at.isoformat(),
                },
            )
    return None


class LiveFeed:
    """Subscribed to events and results only while someone watches: every result
    delivered to a gateway nobody watches would still cost it a parse."""

    def __init__(self, nc: Client, subjects: Subjects) -> None:
        self._nc = nc
        self._subjects = subjects
        self._listeners: dict[str, set[asyncio.Queue[ServerSentEventMessage]]] = defaultdict(set)
        self._subscriptions: list[Subscription] = []
        self._lock = asyncio.Lock()
        self._idle_checks: set[asyncio.Task[None]] = set()

    async def _watch(self) -> None:
        async with self._lock:
            if not self._subscriptions:
                self._subscriptions = [
                    await self._nc.subscribe(self._subjects.all_events, cb=self._on_message),
                    await self._nc.subscribe(self._subjects.all_results, cb=self._on_message),
                ]

    async def _unwatch_if_idle(self) -> None:
        async with self._lock:
            if self._listeners or not self._subscriptions:
                return
            subscriptions, self._subscriptions = self._subscriptions, []
            for subscription in subscriptions:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def _on_message(self, msg: Msg) -> None:
        if not any(self._listeners.values()):
            return  # nobody watching: do not even decode
        try:
            found = to_message(msg.subject, msg.data, self._subjects)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return  # the log's own consumers park bad messages; a live view skips them
        if found is None:
            return
        organization, name, payload = found
        message = ServerSentEventMessage(event=name, data=msgspec.json.encode(payload).decode())
        for queue in self._listeners.get(organization, ()):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()  # drop the oldest for a client that cannot keep up
            queue.put_nowait(message)

    async def follow(self, organization: str) -> AsyncIterator[ServerSentEventMessage]:
        queue: asyncio.Queue[ServerSentEventMessage] = asyncio.Queue(QUEUE_SIZE)
        self._listeners[organization].add(queue)
        await self._watch()
        try:
            yield ServerSentEventMessage(data=None, comment="connected")
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(data=None, comment="keepalive")
        finally:
            self._listeners[organization].discard(queue)
            if not self._listeners[organization]:
                del self._listeners[organization]
            if not self._listeners:
                # A task, not an await: a closing generator may not get to await.
                check = asyncio.create_task(self._unwatch_if_idle())
                self._idle_checks.add(check)
                check.add_done_callback(self._idle_checks.discard)


@get(
    "/api/v1/stream",
    # A browser's EventSource cannot send headers: ?organization=<id> stands in
    # for X-Phoenix-Organization here (principal.py).
    opt={"organization_query": True},
)
async def stream(principal: Principal, live: LiveFeed) -> ServerSentEvent:
    return ServerSentEvent(live.follow(principal.organization_id))
