"""Writing the delivery log's events (aggregate ``delivery``), safely repeatable.

Each event's id is derived from the delivery and its position in the
delivery's history, and it is appended only after the last event we loaded:
a crash-and-retry writes the same event again, which the log refuses, so
every fact lands once however often the notifier tries.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
from phoenix_contracts.base import Envelope, Event
from phoenix_contracts.notifications import DELIVERY, NotificationJob, delivery_id
from phoenix_platform.messaging.eventstore import ConcurrencyConflict, EventStore

Build = Callable[[Envelope], Event]


class Journal:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def write(
        self, key: str, organization_id: str, build: Build, *, only_first: bool = False
    ) -> int | None:
        """Append ``build(envelope)`` to the delivery's history; the log sequence, or None
        when nothing was written (``only_first``: the delivery already has a history)."""
        aggregate_id = delivery_id(key)
        for _ in range(3):
            events, sequence = await self._store.load(DELIVERY, aggregate_id)
            if only_first and events:
                return None
            version = len(events) + 1
            envelope = Envelope(
                event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{aggregate_id}:{version}")),
                aggregate_id=aggregate_id,
                aggregate_version=version,
                occurred_at=datetime.now(UTC),
                organization_id=organization_id,
                correlation_id=key,
            )
            try:
                return await self._store.append([build(envelope)], sequence)
            except ConcurrencyConflict:
                continue
        return None


def delivery_row(job: NotificationJob) -> dict[str, object]:
    """The parameters of a job's row in the notifier's ``deliveries`` table."""
    return {
        "k": job.key,
        "id": delivery_id(job.key),
        "org": job.organization_id,
        "c": job.channel_id,
        "m": job.monitor.id,
        "e": job.event,
        "job": msgspec.json.encode(job).decode(),
    }
