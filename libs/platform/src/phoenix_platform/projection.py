"""Following the event log into a PostgreSQL read model.

:class:`Projector` writes rows. Each batch's rows and the checkpoint (last
applied stream sequence) commit in one transaction, so a crash never applies
an event twice or skips one. The checkpoint row is locked for the batch:
replicas following the same projection serialize on it and skip what another
already applied.

An event whose apply fails with a data error (the same input will fail the
same way) is retried a few times, then parked on the dead-letter stream and
skipped, so one bad event cannot stop a read model. Infrastructure errors
(a lost connection) are retried until they pass: skipping events because the
database blinked would corrupt the projection for good.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import msgspec
from nats.js import JetStreamContext
from phoenix_contracts.base import Event
from phoenix_contracts.subjects import Subjects
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from phoenix_platform.follower import Follower
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.tail import LogEntry, follow

log = get_logger(__name__)


# Errors that the same event will raise again however often it is retried.
DATA_ERRORS = (DataError, IntegrityError, ValueError, TypeError, KeyError, msgspec.ValidationError)
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
    ) -> None:
        super().__init__(js, subjects, subject)
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
        except DATA_ERRORS as exc:
            await savepoint.rollback()
            failures = self._failures[entry.sequence] = self._failures.get(entry.sequence, 0) + 1
            if failures < POISON_AFTER:
                raise  # the whole batch is retried after a pause
            await self._park(
                entry, f"projection {self._projection.name}: {type(exc).__name__}: {exc}"
            )
        else:
            await savepoint.commit()
