"""Following the event log into a PostgreSQL read model.

:class:`Projector` writes rows. Each batch's rows and the checkpoint (last
applied stream sequence) commit in one transaction, so a crash never applies
an event twice or skips one. The checkpoint row is locked for the batch:
replicas following the same projection serialize on it and skip what another
already applied.

Each event is applied in a savepoint, so a failed one rolls back alone and
leaves the batch's transaction usable. Failures are sorted by
:mod:`phoenix_platform.errors`:

- a data error (SQLSTATE class 22/23/54, or the row cannot be mapped: a NUL
  byte, a lone surrogate, a missing key) fails the same way every time: the
  event is parked at once on the dead-letter stream, naming this projection,
  and skipped, so one tenant's bad event cannot stop everyone's read model;
- an infrastructure error (a refused or lost connection, a timeout, a
  restarting server) is retried until it passes, never parked: skipping
  events because the database blinked would corrupt the projection for good;
- anything else (a bug the event triggers) is retried ``POISON_AFTER`` times
  with the runtime's backoff, then parked: a wedge is never the answer.

A parked event stays in the log; ``phoenix dead-letters replay`` re-applies it
to the projection that parked it (never appending it to the log again).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from nats.js import JetStreamContext
from phoenix_contracts.base import Event
from phoenix_contracts.subjects import Subjects
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from phoenix_platform.errors import is_data_error, is_infrastructure_error
from phoenix_platform.follower import STALL_AFTER, Follower
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.codec import decode_event
from phoenix_platform.messaging.tail import LogEntry, follow

log = get_logger(__name__)


# Failures of an unknown kind before the event is parked (data errors park at once).
POISON_AFTER = 3


class Projection(Protocol):
    name: str

    async def apply(self, conn: AsyncConnection, event: Event, sequence: int) -> None: ...


class Projector(Follower):
    def __init__(
        self,
        js: JetStreamContext,
        subjects: Subjects,
        engine: AsyncEngine,
        projection: Projection,
        subject: str | None = None,
        *,
        stall_after: float = STALL_AFTER,
    ) -> None:
        super().__init__(js, subjects, subject, name=projection.name, stall_after=stall_after)
        self._engine = engine
        self._projection = projection
        self._failures: dict[int, int] = {}

    async def run(self) -> None:
        position = await self._checkpoint()
        async with self._changed:
            self.applied = max(self.applied, position)
            self._changed.notify_all()  # someone may already wait for this position
        await self._mark_start(position + 1)
        async for batch in follow(self._js, self._stream, self._subject, position + 1):
            self._received()
            last = await self._apply_batch(batch) if batch else position
            await self._advance(batch, last)

    async def replay_until(self, last: int, progress: Callable[[int], None] | None = None) -> int:
        """Apply the log from the checkpoint up to sequence ``last`` and stop (a rebuild).

        Returns the position reached; ``progress(sequence)`` is told after each batch.
        """
        position = await self._checkpoint()
        if position >= last:
            return position
        async for batch in follow(self._js, self._stream, self._subject, position + 1):
            wanted = [entry for entry in batch if entry.sequence <= last]
            if wanted:
                position = await self._apply_batch(wanted)
                if progress is not None:
                    progress(position)
            if not wanted or position >= last or wanted[-1].sequence >= last:
                return max(position, min(last, batch[-1].sequence))
        return position

    async def _checkpoint(self) -> int:
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "insert into checkpoints (name, position) values (:n, 0) "
                    "on conflict (name) do nothing"
                ),
                {"n": self._projection.name},
            )
            result = await conn.execute(
                text("select position from checkpoints where name = :n"),
                {"n": self._projection.name},
            )
            return int(result.scalar_one())

    async def _apply_batch(self, batch: list[LogEntry]) -> int:
        async with self._engine.begin() as conn:
            locked = await conn.execute(
                text("select position from checkpoints where name = :n for update"),
                {"n": self._projection.name},
            )
            position = int(locked.scalar_one())
            for entry in batch:
                if entry.sequence <= position:
                    continue  # another replica applied it already
                event = await self._decode(entry)
                if event is not None:
                    await self._apply_one(conn, entry, event)
            last = max(position, batch[-1].sequence)
            await conn.execute(
                text("update checkpoints set position = :p where name = :n"),
                {"p": last, "n": self._projection.name},
            )
        self._failures.clear()
        return last

    async def _apply_one(self, conn: AsyncConnection, entry: LogEntry, event: Event) -> None:
        savepoint = await conn.begin_nested()
        try:
            await self._projection.apply(conn, event, entry.sequence)
        except Exception as exc:
            # Rolled back to the savepoint, the transaction is usable again; if the
            # connection itself is gone this raises, and the batch is retried.
            await savepoint.rollback()
            if not self._gives_up(entry.sequence, exc):
                raise  # the whole batch is retried after the runtime's pause
            await self._park(
                entry, f"projection {self._projection.name}: {type(exc).__name__}: {exc}"
            )
        else:
            await savepoint.commit()

    def _gives_up(self, sequence: int, exc: Exception) -> bool:
        """Park now (a data error, or a failure of unknown kind seen too often)?"""
        if is_infrastructure_error(exc):
            return False
        if is_data_error(exc):
            return True
        failures = self._failures[sequence] = self._failures.get(sequence, 0) + 1
        return failures >= POISON_AFTER


async def reapply(engine: AsyncEngine, projection: Projection, sequence: int, data: bytes) -> None:
    """Apply one parked event of the log to ``projection`` again (an operator's replay).

    Under the checkpoint's row lock, so it never interleaves with the live
    projector's batch; the checkpoint does not move (the live projector is past
    this event already). Raises what the projection raises: then it stays parked.
    """
    event = decode_event(data)
    async with engine.begin() as conn:
        await conn.execute(
            text("select position from checkpoints where name = :n for update"),
            {"n": projection.name},
        )
        await projection.apply(conn, event, sequence)
