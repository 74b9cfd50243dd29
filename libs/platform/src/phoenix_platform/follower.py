"""Following the event log into in-process state.

:class:`MemoryFollower` folds events into state rebuilt from the start of the
log on every start (scheduler, evaluator). :class:`Follower` is the part it
shares with :class:`~phoenix_platform.projection.Projector`: ``applied`` (last
sequence applied), ``wait_for(sequence)`` so a writer can wait until its own
write is visible (read your writes), and ``is_ready`` for readiness.

Readiness means "caught up once, and not stalled since": a follower is
*stalled* when events exist beyond ``applied`` and ``applied`` has not moved for
``stall_after`` seconds since it last saw it had work. Being behind during a
burst is not being stalled (``applied`` keeps moving), so readiness does not
flap under load; a projection stuck on one event, or on a database that is
gone, turns not-ready after ``stall_after`` seconds and ready again once it moves.

Kept free of SQLAlchemy so services without a database import less at start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from nats.js import JetStreamContext
from phoenix_contracts.base import Event
from phoenix_contracts.subjects import Subjects

from phoenix_platform.messaging.codec import decode_event
from phoenix_platform.messaging.deadletter import park
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.messaging.tail import LogEntry, follow, last_sequence

STALL_AFTER = 30.0


def stalled_for(now: float, advanced_at: float, behind_since: float | None) -> float:
    """Seconds a follower that is behind has gone without applying anything.

    The clock starts at the later of its last progress and the moment it was
    first seen behind: a follower idle for an hour that gets one event is not
    an hour stalled."""
    if behind_since is None:
        return 0.0
    return max(0.0, now - max(advanced_at, behind_since))


class Follower:
    def __init__(
        self,
        js: JetStreamContext,
        subjects: Subjects,
        subject: str | None,
        *,
        name: str,
        stall_after: float = STALL_AFTER,
    ) -> None:
        self._js = js
        self._subjects = subjects
        self._stream = Streams(subjects).events
        self._subject = subject or subjects.all_events
        self.name = name  # who parked an event, on its dead letter
        self.applied = 0
        self._changed = asyncio.Condition()
        self._caught_up = asyncio.Event()
        self._stall_after = stall_after
        self._advanced_at = time.monotonic()
        self._behind_since: float | None = None

    @property
    def caught_up(self) -> bool:
        """True once everything in the log at start has been applied."""
        return self._caught_up.is_set()

    async def is_ready(self) -> bool:
        """Caught up once, and not stalled now (see the module's docstring)."""
        if not self.caught_up:
            return False
        return (await self._stalled_seconds()) < self._stall_after

    async def lag(self) -> dict[str, int]:
        """How far behind the log this follower is, and for how long it has not moved."""
        newest = await last_sequence(self._js, self._stream, self._subject)
        stalled = await self._stalled_seconds(newest)
        return {
            "applied": self.applied,
            "newest": newest,
            "lag": max(0, newest - self.applied),
            "stalled_seconds": int(stalled),
        }

    async def _stalled_seconds(self, newest: int | None = None) -> float:
        if newest is None:
            newest = await last_sequence(self._js, self._stream, self._subject)
        if newest <= self.applied:
            self._behind_since = None
            return 0.0
        if self._behind_since is None:
            # Noticed here when the follow loop itself cannot receive (its
            # subscription or its database is down): it never saw the work.
            self._behind_since = time.monotonic()
        return stalled_for(time.monotonic(), self._advanced_at, self._behind_since)

    def _received(self) -> None:
        """A batch arrived: from now on, not moving counts as stalled."""
        if self._behind_since is None:
            self._behind_since = time.monotonic()

    async def wait_caught_up(self) -> None:
        await self._caught_up.wait()

    async def wait_for(self, sequence: int, timeout: float = 5.0) -> bool:
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: self.applied >= sequence)
        except TimeoutError:
            return False
        return True

    async def _mark_start(self, start_sequence: int) -> None:
        """Note where the log ends now; with nothing to apply we are caught up at once.

        Asked of the stream, not of the new consumer: a push consumer may have
        delivered everything before we ask it, and would then report nothing pending.
        """
        if await last_sequence(self._js, self._stream, self._subject) < start_sequence:
            self._caught_up.set()

    async def _advance(self, batch: list[LogEntry], sequence: int | None = None) -> None:
        last = sequence if sequence is not None else (batch[-1].sequence if batch else 0)
        async with self._changed:
            if last > self.applied:
                self._advanced_at = time.monotonic()
            self.applied = max(self.applied, last)
            self._changed.notify_all()
        if batch and batch[-1].pending == 0:
            self._caught_up.set()
            self._behind_since = None

    async def _decode(self, entry: LogEntry) -> Event | None:
        try:
            return decode_event(entry.data)
        except Exception as exc:
            # A corrupt or unknown event must not stop the read model: park a
            # copy for an operator and move on.
            await self._park(entry, f"undecodable event: {exc}")
            return None

    async def _park(self, entry: LogEntry, error: str) -> None:
        await park(
            self._js,
            self._subjects,
            stream=self._stream,
            sequence=entry.sequence,
            subject=entry.subject,
            data=entry.data,
            error=error,
            deliveries=1,
            consumer=self.name,
        )


class MemoryFollower(Follower):
    """State rebuilt from the whole log on every start: an event it parked is
    applied again by the next start (its code fixed), so restarting the
    service is the replay of what it parked."""

    def __init__(
        self,
        js: JetStreamContext,
        subjects: Subjects,
        apply: Callable[[Event, int], None],
        subject: str | None = None,
        *,
        name: str = "memory",
        stall_after: float = STALL_AFTER,
    ) -> None:
        super().__init__(js, subjects, subject, name=name, stall_after=stall_after)
        self._apply = apply

    async def run(self) -> None:
        await self._mark_start(self.applied + 1)
        async for batch in follow(self._js, self._stream, self._subject, self.applied + 1):
            self._received()
            for entry in batch:
                event = await self._decode(entry)
                if event is None:
                    continue
                try:
                    self._apply(event, entry.sequence)
                except Exception as exc:
                    # Pure in-memory code fails the same way every time: retrying
                    # would stall the service, so park the event and go on.
                    await self._park(entry, f"cannot apply: {type(exc).__name__}: {exc}")
            await self._advance(batch)
