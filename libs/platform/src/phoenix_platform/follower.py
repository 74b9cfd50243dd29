"""Following the event log into in-process state.

:class:`MemoryFollower` folds events into state rebuilt from the start of the
log on every start (scheduler, evaluator). :class:`Follower` is the part it
shares with :class:`~phoenix_platform.projection.Projector`: ``applied`` (last
sequence applied), ``wait_for(sequence)`` so a writer can wait until its own
write is visible (read your writes), and ``caught_up`` for readiness.

Kept free of SQLAlchemy so services without a database import less at start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats.js import JetStreamContext
from phoenix_contracts.base import Event
from phoenix_contracts.subjects import Subjects

from phoenix_platform.messaging.codec import decode_event
from phoenix_platform.messaging.deadletter import park
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.messaging.tail import LogEntry, follow, last_sequence


class Follower:
    def __init__(self, js: JetStreamContext, subjects: Subjects, subject: str | None) -> None:
        self._js = js
        self._subjects = subjects
        self._stream = Streams(subjects).events
        self._subject = subject or subjects.all_events
        self.applied = 0
        self._changed = asyncio.Condition()
        self._caught_up = asyncio.Event()

    @property
    def caught_up(self) -> bool:
        """True once everything in the log at start has been applied."""
        return self._caught_up.is_set()

    async def is_caught_up(self) -> bool:
        return self.caught_up

    async def lag(self) -> dict[str, int]:
        """How far behind the log this follower is: events appended but not applied yet."""
        newest = await last_sequence(self._js, self._stream, self._subject)
        return {"applied": self.applied, "newest": newest, "lag": max(0, newest - self.applied)}

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
            self.applied = max(self.applied, last)
            self._changed.notify_all()
        if batch and batch[-1].pending == 0:
            self._caught_up.set()

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
        )


class MemoryFollower(Follower):
    def __init__(
        self,
        js: JetStreamContext,
        subjects: Subjects,
        apply: Callable[[Event, int], None],
        subject: str | None = None,
    ) -> None:
        super().__init__(js, subjects, subject)
        self._apply = apply

    async def run(self) -> None:
        await self._mark_start(self.applied + 1)
        async for batch in follow(self._js, self._stream, self._subject, self.applied + 1):
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
