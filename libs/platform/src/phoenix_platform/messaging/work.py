"""Work-queue consumers: decode, handle, ack — or retry, or dead-letter.

Every pull consumer in Phoenix goes through :func:`work_consumer`, so the
delivery policy lives in one place:

- a payload that does not decode is parked at once (retrying cannot fix it);
- a handler error is retried with a growing delay, and parked after
  ``max_deliver`` deliveries;
- the message is acked only after the handler's side effect (at-least-once);
  handlers are idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsMessage, PullSub
from phoenix_contracts.subjects import Subjects

from phoenix_platform.logging import bind_correlation, get_logger
from phoenix_platform.messaging.deadletter import park

T = TypeVar("T")
log = get_logger(__name__)


class PermanentError(Exception):
    """Retrying cannot help: dead-letter the message now."""


def retry_delay(deliveries: int) -> float:
    """Seconds before the next delivery: 1, 2, 4, … capped at 60."""
    return float(min(60, 2 ** max(0, deliveries - 1)))


def work_consumer(
    broker: NatsBroker,
    *,
    subjects: Subjects,
    subject: str,
    stream: str,
    durable: str,
    kind: Any,
    handler: Callable[[Any], Awaitable[None]],
    max_deliver: int = 5,
    ack_wait: float = 30.0,
    batch_size: int = 16,
    max_workers: int = 1,
) -> None:
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(kind)
    config = ConsumerConfig(
        ack_wait=ack_wait,
        # One more than our own limit so the server never silently gives up
        # before we have parked the message ourselves.
        max_deliver=max_deliver + 1,
        max_ack_pending=batch_size * 64,
    )

    @broker.subscriber(
        subject,
        stream=JStream(stream, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=batch_size, timeout=5.0),
        config=config,
        ack_policy=AckPolicy.MANUAL,
        max_workers=max_workers,
    )
    async def consume(msg: NatsMessage) -> None:
        raw = msg.raw_message
        meta = raw.metadata
        deliveries = meta.num_delivered
        sequence = meta.sequence.stream

        async def dead_letter(error: str) -> None:
            await park(
                broker.connection.jetstream(),
                subjects,
                stream=stream,
                sequence=sequence,
                subject=raw.subject,
                data=raw.data,
                error=error,
                deliveries=deliveries,
            )
            await msg.reject()

        try:
            item = decoder.decode(raw.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await dead_letter(f"undecodable: {exc}")
            return
        with bind_correlation(getattr(item, "job_id", "") or getattr(item, "key", "")):
            try:
                await handler(item)
            except PermanentError as exc:
                await dead_letter(str(exc))
            except Exception as exc:
                if deliveries >= max_deliver:
                    await dead_letter(f"{type(exc).__name__}: {exc}")
                    return
                log.warning(
                    "message.retrying",
                    error=f"{type(exc).__name__}: {exc}",
                    deliveries=deliveries,
                    stream=stream,
                    sequence=sequence,
                    subject=raw.subject,
                )
                await msg.nack(delay=retry_delay(deliveries))
            else:
                await msg.ack()
