"""Appending to and reading aggregates from the JetStream event log.

One subject per aggregate instance (``<ns>.evt.<aggregate>.<id>``) lets an
append carry ``Nats-Expected-Last-Subject-Sequence``: the server refuses it if
anyone appended to that aggregate since we read it (optimistic concurrency).
This header exists since NATS 2.9. ``Nats-Msg-Id`` is the event id, so a
retried publish inside the duplicate window is dropped by the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from nats.js.errors import APIError, NotFoundError
from phoenix_contracts.base import Event
from phoenix_contracts.subjects import CORRELATION_HEADER, EVENT_TYPE_HEADER, Subjects

from phoenix_platform.messaging.codec import decode_event, encode, event_type
from phoenix_platform.messaging.streams import Streams

WRONG_LAST_SEQUENCE = 10071


class ConcurrencyConflict(Exception):
    """Someone appended to the aggregate since it was loaded: reload and retry."""


class EventStore:
    def __init__(self, js: JetStreamContext, subjects: Subjects) -> None:
        self._js = js
        self._subjects = subjects
        self._stream = Streams(subjects).events

    def subject_of(self, event: Event) -> str:
        return self._subjects.event(type(event).aggregate, event.aggregate_id)

    async def append(self, events: Sequence[Event], expected_sequence: int) -> int:
        """Append ``events`` (one aggregate) after ``expected_sequence`` (0 = new aggregate).

        Returns the stream sequence of the last event. NATS 2.9 has no atomic
        batch, so each event is guarded by the sequence of the one before.
        """
        sequence = expected_sequence
        for event in events:
            headers = {
                "Nats-Msg-Id": event.event_id,
                "Nats-Expected-Last-Subject-Sequence": str(sequence),
                EVENT_TYPE_HEADER: event_type(event),
            }
            if event.correlation_id:
                headers[CORRELATION_HEADER] = event.correlation_id
            subject = self.subject_of(event)
            try:
                ack = await self._js.publish(
                    subject, encode(event), stream=self._stream, headers=headers
                )
            except APIError as exc:
                if exc.err_code != WRONG_LAST_SEQUENCE:
                    raise
                landed = await self._landed_before(subject, event.event_id)
                if landed is None:
                    raise ConcurrencyConflict(str(exc.description)) from exc
                sequence = landed
                continue
            sequence = ack.seq
        return sequence

    async def _landed_before(self, subject: str, event_id: str) -> int | None:
        """The sequence of ``event_id`` if it is already the aggregate's last event.

        A retried append whose first ack was lost must succeed, not conflict.
        NATS 2.9 drops the retry as a duplicate; newer servers check the
        expected sequence first and refuse it, so we look for ourselves.
        """
        try:
            last = await self._js.get_last_msg(self._stream, subject)
        except NotFoundError:
            return None
        if (last.headers or {}).get("Nats-Msg-Id") == event_id:
            return int(last.seq or 0)
        return None

    async def last_sequence(self, aggregate: str, aggregate_id: str) -> int:
        try:
            msg = await self._js.get_last_msg(
                self._stream, self._subjects.event(aggregate, aggregate_id)
            )
        except NotFoundError:
            return 0
        return int(msg.seq or 0)

    async def load(
        self, aggregate: str, aggregate_id: str, timeout: float = 5.0
    ) -> tuple[list[Event], int]:
        """Every event of one aggregate, oldest first, and the sequence to append after."""
        last = await self.last_sequence(aggregate, aggregate_id)
        if last == 0:
            return [], 0
        events: list[Event] = []
        sub = await self._js.subscribe(
            self._subjects.event(aggregate, aggregate_id),
            stream=self._stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        try:
            async with asyncio.timeout(timeout):
                while True:
                    msg = await sub.next_msg(timeout=timeout)
                    events.append(decode_event(msg.data))
                    if msg.metadata.sequence.stream >= last:
                        break
        finally:
            await sub.unsubscribe()
        return events, last
