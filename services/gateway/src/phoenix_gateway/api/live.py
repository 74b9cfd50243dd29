"""``GET /api/v1/stream``: status changes, check results and incidents, as Server-Sent Events.

One NATS subscription per gateway process feeds every open stream; each
connection gets only its organization's messages, mapped to HTTP shapes
(events never leave over HTTP as they are stored). A client that cannot keep
up loses its oldest messages rather than holding memory: the queue is bounded.
A comment every 15 s keeps proxies from closing an idle stream.

A stream lasts only as long as the credential behind it. Whenever auth ends a
user's credentials (logout, revocation, password change, removal from an
organization, a revoked key) it publishes ``auth.revoked``; every stream of
that user asks auth again at once and ends if the answer is no longer the
same user in the same organization. Every ``REVERIFY_SECONDS`` each stream
asks anyway, which also ends streams whose credential merely expired (no
message is sent for that, and core NATS may drop one). An unanswered check
ends the stream too: like every request, it fails closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Request, get
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.identity import CredentialsRevoked, Principal
from phoenix_contracts.incidents import IncidentAcknowledged, IncidentOpened, IncidentResolved
from phoenix_contracts.subjects import Subjects
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.codec import decode_event
from phoenix_platform.messaging.requests import Unavailable

from phoenix_gateway.api.principal import request_principal, token_of

log = get_logger(__name__)
QUEUE_SIZE = 1000
KEEPALIVE_SECONDS = 15.0
REVERIFY_SECONDS = 10.0
_results = msgspec.json.Decoder(CheckCompleted)
_revocations = msgspec.json.Decoder(CredentialsRevoked)
# Put in a stream's queue when its user's credentials changed: check them now.
_RECHECK = ServerSentEventMessage(data=None, comment="recheck")
_KEEPALIVE = ServerSentEventMessage(data=None, comment="keepalive")


@dataclass(eq=False)
class Watcher:
    """One open stream: whose it is, how to ask whether it may go on, what waits for it."""

    user_id: str
    still_allowed: Callable[[], Awaitable[bool]]
    queue: asyncio.Queue[ServerSentEventMessage] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    # Set with the wake-up message, so a full queue dropping that message loses nothing.
    recheck: bool = False

    def nudge(self) -> None:
        self.recheck = True
        self.offer(_RECHECK)

    def offer(self, message: ServerSentEventMessage) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()  # drop the oldest for a client that cannot keep up
        self.queue.put_nowait(message)


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
        self._watchers: dict[str, set[Watcher]] = defaultdict(set)
        self._subscriptions: list[Subscription] = []
        self._lock = asyncio.Lock()
        self._idle_checks: set[asyncio.Task[None]] = set()

    async def _watch(self) -> None:
        async with self._lock:
            if not self._subscriptions:
                self._subscriptions = [
                    await self._nc.subscribe(self._subjects.all_events, cb=self._on_message),
                    await self._nc.subscribe(self._subjects.all_results, cb=self._on_message),
                    await self._nc.subscribe(self._subjects.auth("revoked"), cb=self._on_revoked),
                ]

    async def _unwatch_if_idle(self) -> None:
        async with self._lock:
            if self._watchers or not self._subscriptions:
                return
            subscriptions, self._subscriptions = self._subscriptions, []
            for subscription in subscriptions:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def _on_message(self, msg: Msg) -> None:
        if not any(self._watchers.values()):
            return  # nobody watching: do not even decode
        try:
            found = to_message(msg.subject, msg.data, self._subjects)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return  # the log's own consumers park bad messages; a live view skips them
        if found is None:
            return
        organization, name, payload = found
        message = ServerSentEventMessage(event=name, data=msgspec.json.encode(payload).decode())
        for watcher in self._watchers.get(organization, ()):
            watcher.offer(message)

    async def _on_revoked(self, msg: Msg) -> None:
        try:
            user_id: str | None = _revocations.decode(msg.data).user_id
        except (msgspec.DecodeError, msgspec.ValidationError):
            user_id = None  # unreadable: every stream checks, rather than risk one
        for watchers in self._watchers.values():
            for watcher in watchers:
                if user_id is None or watcher.user_id == user_id:
                    watcher.nudge()

    async def follow(
        self, organization: str, watcher: Watcher
    ) -> AsyncIterator[ServerSentEventMessage]:
        self._watchers[organization].add(watcher)
        await self._watch()
        try:
            yield ServerSentEventMessage(data=None, comment="connected")
            async for message in _while_allowed(watcher):
                yield message
        finally:
            self._watchers[organization].discard(watcher)
            if not self._watchers[organization]:
                del self._watchers[organization]
            if not self._watchers:
                # A task, not an await: a closing generator may not get to await.
                check = asyncio.create_task(self._unwatch_if_idle())
                self._idle_checks.add(check)
                check.add_done_callback(self._idle_checks.discard)


async def _while_allowed(watcher: Watcher) -> AsyncIterator[ServerSentEventMessage]:
    """The watcher's messages, a keepalive when idle, until its credential ends."""
    loop = asyncio.get_running_loop()
    checked_at = sent_at = loop.time()
    while True:
        due = min(checked_at + REVERIFY_SECONDS, sent_at + KEEPALIVE_SECONDS)
        try:
            message: ServerSentEventMessage | None = await asyncio.wait_for(
                watcher.queue.get(), max(due - loop.time(), 0)
            )
        except TimeoutError:
            message = None
        now = loop.time()
        if watcher.recheck or now >= checked_at + REVERIFY_SECONDS:
            watcher.recheck = False
            if not await watcher.still_allowed():
                return
            checked_at = now
        if message is None and now >= sent_at + KEEPALIVE_SECONDS:
            message = _KEEPALIVE
        if message is not None and message is not _RECHECK:
            sent_at = now
            yield message


@get(
    "/api/v1/stream",
    # A browser's EventSource cannot send headers: ?organization=<id> stands in
    # for X-Phoenix-Organization here (principal.py).
    opt={"organization_query": True},
)
async def stream(
    request: Request,  # type: ignore[type-arg]
    principal: Principal,
    live: LiveFeed,
    nats: Client,
    subjects: Subjects,
) -> ServerSentEvent:
    token = token_of(request) or ""

    async def still_allowed() -> bool:
        """Auth still sees this credential as the same user in the same organization."""
        try:
            now = await request_principal(nats, subjects, token, principal.organization_id)
        except Unavailable:
            log.warning("stream.unverified", user_id=principal.user.id)
            return False  # fail closed, as every request does
        return isinstance(now, Principal) and now.user.id == principal.user.id

    watcher = Watcher(user_id=principal.user.id, still_allowed=still_allowed)
    return ServerSentEvent(live.follow(principal.organization_id, watcher))
