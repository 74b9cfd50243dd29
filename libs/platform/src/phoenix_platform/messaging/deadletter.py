"""Parking messages that cannot be processed on ``<ns>.dlq.<stream>``.

A parked copy keeps the original payload and says where it came from, who
gave up on it (``Phx-Dlq-Consumer``: a work queue's durable, or the
projection that skipped an event of the log) and why, so an operator can
inspect it and replay it (``phoenix dead-letters``). The original is then
terminated so it never blocks the messages behind it.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from phoenix_contracts.subjects import Subjects

from phoenix_platform import metrics
from phoenix_platform.logging import get_logger

log = get_logger(__name__)


async def park(
    js: JetStreamContext,
    subjects: Subjects,
    *,
    stream: str,
    sequence: int,
    subject: str,
    data: bytes,
    error: str,
    deliveries: int,
    consumer: str,
) -> None:
    log.error(
        "message.dead_lettered",
        stream=stream,
        sequence=sequence,
        subject=subject,
        deliveries=deliveries,
        consumer=consumer,
        error=error[:500],
    )
    headers = {
        "Phx-Dlq-Stream": stream,
        "Phx-Dlq-Sequence": str(sequence),
        "Phx-Dlq-Subject": subject,
        "Phx-Dlq-Error": error[:1000].replace("\r", " ").replace("\n", " "),
        "Phx-Dlq-Deliveries": str(deliveries),
        "Phx-Dlq-Consumer": consumer,
        # Per consumer: several projections may park the same event of the log.
        "Nats-Msg-Id": f"dlq:{stream}:{sequence}:{consumer}",
    }
    await js.publish(subjects.dead_letter(stream), data, headers=headers)
    metrics.MESSAGES_DEAD_LETTERED.labels(stream).inc()
