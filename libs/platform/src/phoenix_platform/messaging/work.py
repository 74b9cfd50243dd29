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

import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.msg import Msg
from nats.js.api import AckPolicy as NatsAckPolicy
from nats.js.api import ConsumerConfig as NatsConsumerConfig
from phoenix_contracts.subjects import Subjects

from phoenix_platform import metrics
from phoenix_platform.logging import bind_correlation, get_logger
from phoenix_platform.messaging.deadletter import park

T = TypeVar("T")
log = get_logger(__name__)


class PermanentError(Exception):
    """Retrying cannot help: dead-letter the message now."""


class RetryLater(Exception):
    """A transient failure whose peer said when to come back (e.g. ``Retry-After``)."""

    def __init__(self, message: str, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


MAX_DELAY = 3600.0


def retry_delay(deliveries: int, jitter: Callable[[], float] = random.random) -> float:
    """Seconds before the next delivery: about 1, 2, 4, … capped at 60, each spread
    over ±25 % so that failures that struck together do not all retry together."""
    base = float(min(60, 2 ** max(0, deliveries - 1)))
    return base * (0.75 + 0.5 * jitter())


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
    on_give_up: Callable[[Any, str], Awaitable[None]] | None = None,
) -> None:
    """``on_give_up(item, error)`` runs before a decoded message is dead-lettered
    (permanent error or last delivery), to record the failure where users see it."""
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

        async def give_up(error: str) -> None:
            if on_give_up is not None:
                await on_give_up(item, error)
            await dead_letter(error)

        with bind_correlation(getattr(item, "job_id", "") or getattr(item, "key", "")):
            try:
                await handler(item)
            except PermanentError as exc:
                await give_up(str(exc))
            except Exception as exc:
                error = str(exc) if isinstance(exc, RetryLater) else f"{type(exc).__name__}: {exc}"
                if deliveries >= max_deliver:
                    await give_up(error)
                    return
                delay = retry_delay(deliveries)
                if isinstance(exc, RetryLater) and exc.delay is not None:
                    delay = min(MAX_DELAY, max(delay, exc.delay))
                log.warning(
                    "message.retrying",
                    error=error,
                    deliveries=deliveries,
                    delay=round(delay, 2),
                    stream=stream,
                    sequence=sequence,
                    subject=raw.subject,
                )
                await msg.nack(delay=delay)
                metrics.MESSAGES_RETRIED.labels(stream).inc()
            else:
                await msg.ack()


class BatchConsumer:
    """Like :func:`work_consumer`, but ``handler`` gets every decoded message of a pull
    (up to ``batch_size``: a pull returns what is waiting at once, or waits up to
    ``max_wait`` for the first) and must apply them all or none, in one transaction.

    Every message is acked only after the handler returned. If the batch fails,
    each message is tried alone: those that pass are acked, the others are retried
    on their own schedule and parked at ``max_deliver`` deliveries (or at once on
    :class:`PermanentError`). Undecodable payloads are parked at once.

    Its own pull loop on nats-py (run it with ``Runtime.background``): FastStream's
    batch subscriber drops what it has fetched when nats-py times out with the
    builtin ``TimeoutError`` it does not catch, and those messages then wait
    ``ack_wait`` for redelivery.
    """

    def __init__(
        self,
        broker: NatsBroker,
        *,
        subjects: Subjects,
        subject: str,
        stream: str,
        durable: str,
        kind: Any,
        handler: Callable[[list[Any]], Awaitable[object]],
        max_deliver: int = 5,
        ack_wait: float = 30.0,
        batch_size: int = 500,
        max_wait: float = 1.0,
    ) -> None:
        self._broker, self._subjects = broker, subjects
        self._subject, self._stream, self._durable = subject, stream, durable
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(kind)
        self._handler, self._max_deliver = handler, max_deliver
        self._batch_size, self._max_wait = batch_size, max_wait
        self._config = NatsConsumerConfig(
            durable_name=durable,
            ack_policy=NatsAckPolicy.EXPLICIT,
            ack_wait=ack_wait,
            # One more than our own limit: we park the message before the server gives up.
            max_deliver=max_deliver + 1,
            max_ack_pending=batch_size * 4,
        )

    async def run(self) -> None:
        js = self._broker.connection.jetstream()
        subscription = await js.pull_subscribe(
            self._subject, durable=self._durable, stream=self._stream, config=self._config
        )
        try:
            while True:
                try:
                    messages = await subscription.fetch(self._batch_size, timeout=self._max_wait)
                except TimeoutError:  # nothing waiting (nats' own TimeoutError is one too)
                    continue
                await self.consume(messages)
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def consume(self, messages: list[Msg]) -> None:
        decoded: list[tuple[Msg, Any]] = []
        for raw in messages:
            try:
                decoded.append((raw, self._decoder.decode(raw.data)))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                await _park_raw(
                    self._broker, self._subjects, self._stream, raw, f"undecodable: {exc}"
                )
        if not decoded:
            return
        try:
            await self._handler([item for _, item in decoded])
        except Exception as exc:
            log.warning(
                "batch.failed",
                error=f"{type(exc).__name__}: {exc}",
                size=len(decoded),
                stream=self._stream,
            )
            # One at a time now, so one bad message neither holds back nor
            # (by using up their deliveries with its own) parks its neighbours.
            for raw, item in decoded:
                await _one_by_one(
                    self._broker,
                    self._subjects,
                    self._stream,
                    raw,
                    item,
                    self._handler,
                    self._max_deliver,
                )
        else:
            for raw, _ in decoded:
                await raw.ack()


async def _one_by_one(
    broker: NatsBroker,
    subjects: Subjects,
    stream: str,
    raw: Msg,
    item: Any,
    handler: Callable[[list[Any]], Awaitable[object]],
    max_deliver: int,
) -> None:
    try:
        await handler([item])
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        deliveries = raw.metadata.num_delivered
        if isinstance(exc, PermanentError) or deliveries >= max_deliver:
            await _park_raw(broker, subjects, stream, raw, error)
        else:
            await raw.nak(delay=retry_delay(deliveries))
            metrics.MESSAGES_RETRIED.labels(stream).inc()
    else:
        await raw.ack()


async def _park_raw(
    broker: NatsBroker, subjects: Subjects, stream: str, raw: Msg, error: str
) -> None:
    meta = raw.metadata
    await park(
        broker.connection.jetstream(),
        subjects,
        stream=stream,
        sequence=meta.sequence.stream,
        subject=raw.subject,
        data=raw.data,
        error=error,
        deliveries=meta.num_delivered,
    )
    await raw.term()


async def handle_raw(
    broker: NatsBroker,
    subjects: Subjects,
    stream: str,
    raw: Msg,
    decoder: msgspec.json.Decoder[Any],
    handler: Callable[[Any], Awaitable[None]],
    max_deliver: int,
) -> None:
    """One message from a nats-py pull, with :func:`work_consumer`'s policy:
    park it if it does not decode, else handle it and ack, retry or park."""
    try:
        item = decoder.decode(raw.data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        await _park_raw(broker, subjects, stream, raw, f"undecodable: {exc}")
        return

    async def one(items: list[Any]) -> None:
        await handler(items[0])

    with bind_correlation(getattr(item, "job_id", "")):
        await _one_by_one(broker, subjects, stream, raw, item, one, max_deliver)
