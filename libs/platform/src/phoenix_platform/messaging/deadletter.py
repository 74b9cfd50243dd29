"""Parking messages that cannot be processed on ``<ns>.dlq.<stream>``.

A parked copy keeps the original payload and says where it came from and why,
so an operator can inspect it and publish it again. The original is then
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
) -> None:
    log.error(
        "message.dead_lettered",
        stream=stream,
        sequence=sequence,
        subject=subject,
        deliveries=deliveries,
        error=error[:500],
    )
    headers = {
        "Phx-Dlq-Stream": stream,
        "Phx-Dlq-Sequence": str(sequence),
        "Phx-Dlq-Subject": subject,
        "Phx-Dlq-Error": error[:1000].replace("\r", " ").replace("\n", " "),
        "Phx-Dlq-Deliveries": str(deliveries),
        "Nats-Msg-Id": f"dlq:{stream}:{sequence}",
    }
    await js.publish(subjects.dead_letter(stream), data, headers=headers)
    metrics.MESSAGES_DEAD_LETTERED.labels(stream).inc()
