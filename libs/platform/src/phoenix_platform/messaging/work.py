"""Work-queue consumers: decode, handle, ack — or retry, or dead-letter.

Every pull consumer in Phoenix (:class:`WorkConsumer`, :class:`BatchConsumer`,
the evaluator's partitioned one) goes through this module, so the delivery
policy lives in one place:

- a payload that does not decode is parked at once (retrying cannot fix it);
- an infrastructure failure (the database or NATS refused, lost or timed out:
  :func:`phoenix_platform.errors.is_infrastructure_error`) is retried with a
  growing delay for as long as it lasts and never parked: the message is fine,
  and parking it would lose it to an outage;
- any other handler error is retried with a growing delay, and parked after
  ``max_deliver`` deliveries (at once on :class:`PermanentError`);
- the message is acked only after the handler's side effect (at-least-once);
  handlers are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import msgspec
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy as NatsAckPolicy
from nats.js.api import ConsumerConfig as NatsConsumerConfig
from phoenix_contracts.subjects import Subjects

from phoenix_platform import metrics
from phoenix_platform.errors import is_infrastructure_error
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
# Retries during an outage come at least this often, so work resumes soon after
# the server is back (each retry costs one refused connection, nothing more).
OUTAGE_MAX_DELAY = 10.0


def outage_delay(deliveries: int) -> float:
    return min(OUTAGE_MAX_DELAY, retry_delay(deliveries))


def retry_delay(deliveries: int, jitter: Callable[[], float] = random.random) -> float:
    """Seconds before the next delivery: about 1, 2, 4, … capped at 60, each spread
    over ±25 % so that failures that struck together do not all retry together."""
    base = float(min(60, 2 ** max(0, deliveries - 1)))
    return base * (0.75 + 0.5 * jitter())


def pull_config(durable: str, ack_wait: float, max_ack_pending: int) -> NatsConsumerConfig:
    return NatsConsumerConfig(
        durable_name=durable,
        ack_policy=NatsAckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        # Unlimited: the server must never give up on a message by itself (it would
        # vanish unparked). Our code parks, and only what retrying cannot fix;
        # an outage is waited out however many deliveries it takes.
        max_deliver=-1,
        max_ack_pending=max_ack_pending,
    )


async def pull_subscription(
    js: JetStreamContext, subject: str, stream: str, config: NatsConsumerConfig
) -> JetStreamContext.PullSubscription:
    """Bind to the durable, first bringing an existing one's settings up to ``config``
    (a durable created by an older version keeps its server-side ``max_deliver``
    otherwise, and would drop messages during a long outage). The durable is bound to
    ``subject``: created without that filter it would take every subject of the stream."""
    config = replace(config, filter_subject=subject)
    await js.add_consumer(stream, config)  # creates, or updates the editable fields in place
    return await js.pull_subscribe(
        subject, durable=config.durable_name, stream=stream, config=config
    )


class WorkConsumer:
    """A durable pull consumer whose messages are handled concurrently, up to
    ``max_workers`` at a time, with the policy above. ``on_give_up(item, error)``
    runs before a decoded message is dead-lettered (permanent error or last
    delivery), to record the failure where users see it.

    Its own pull loop on nats-py, started with ``Runtime.consume`` (which runs
    :meth:`stop` at the start of a stop). It pulls only as many messages as it
    has free workers, so nothing waits in a local buffer while other replicas
    idle, and a job is not aged by a queue of ours. (FastStream's subscriber
    cost about 1.4 ms of CPU per message: dependency injection that hops to a
    thread, middlewares, a message object; this loop costs a tenth of that.)
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
        handler: Callable[[Any], Awaitable[None]],
        max_deliver: int = 5,
        ack_wait: float = 30.0,
        batch_size: int = 16,
        max_workers: int = 1,
        max_wait: float = 1.0,
        on_give_up: Callable[[Any, str], Awaitable[None]] | None = None,
        drain_timeout: float = 30.0,
    ) -> None:
        self._broker, self._subjects = broker, subjects
        self._subject, self._stream, self._durable = subject, stream, durable
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(kind)
        self._handler, self._on_give_up = handler, on_give_up
        self._max_deliver, self._max_workers = max_deliver, max_workers
        self._batch_size, self._max_wait = batch_size, max_wait
        self._drain_timeout = drain_timeout
        # Pull again once this many workers are free, so a busy consumer pulls in
        # chunks rather than one message per round trip.
        self._refill = max(1, min(batch_size, max_workers) // 4)
        # max_ack_pending is shared by every replica on this durable.
        self._config = pull_config(durable, ack_wait, batch_size * 64)
        self._working: set[asyncio.Task[None]] = set()
        self._freed = asyncio.Event()
        self._stopping = False
        self._pulling: asyncio.Event | None = None  # set while run() holds a subscription

    async def run(self) -> None:
        js = self._broker.connection.jetstream()
        subscription = await pull_subscription(js, self._subject, self._stream, self._config)
        self._pulling = pulled = asyncio.Event()
        try:
            while not self._stopping:
                free = self._max_workers - len(self._working)
                if free < self._refill and self._working:
                    self._freed.clear()
                    await self._freed.wait()
                    continue
                try:
                    messages = await subscription.fetch(
                        min(free, self._batch_size), timeout=self._max_wait
                    )
                except TimeoutError:  # nothing waiting (nats' own TimeoutError is one too)
                    continue
                for index, raw in enumerate(messages):
                    if self._stopping:  # handed back at once, for another replica
                        await nak_all(messages[index:])
                        break
                    task = asyncio.create_task(self._one(raw))
                    self._working.add(task)
                    task.add_done_callback(self._done)
        finally:
            await hand_back_buffered(subscription)
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
            pulled.set()

    async def stop(self) -> None:
        """Pull nothing more; let the messages in hand finish (up to ``drain_timeout``).

        Returns once the subscription is gone too, so the connection can then
        drain without a pull still waiting on it."""
        self._stopping = True
        self._freed.set()
        if self._pulling is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pulling.wait(), timeout=self._max_wait + 5)
        if not self._working:
            return
        _, late = await asyncio.wait(set(self._working), timeout=self._drain_timeout)
        for task in late:
            task.cancel()  # its message is handed back (see _one)
        await asyncio.gather(*late, return_exceptions=True)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._working.discard(task)
        self._freed.set()
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("message.handling_crashed", error=f"{type(exc).__name__}: {exc}")

    async def _one(self, raw: Msg) -> None:
        try:
            await handle_raw(
                self._broker,
                self._subjects,
                self._stream,
                raw,
                self._decoder,
                self._handler,
                self._max_deliver,
                self._on_give_up,
            )
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await raw.nak()
            raise


async def nak_all(messages: Sequence[Msg]) -> None:
    for raw in messages:
        with contextlib.suppress(Exception):
            await raw.nak()


async def hand_back_buffered(subscription: Any) -> None:
    """A message the server sent just as the last pull expired lands in the
    subscription's buffer, where no fetch will read it now; unacked, it would
    reach the next consumer only after ``ack_wait``. Handed back here, it goes
    at once. (nats-py keeps that buffer private; without it, ack_wait.)"""
    await asyncio.sleep(0.05)  # one in flight at the expiry arrives meanwhile
    queue = getattr(getattr(subscription, "_sub", None), "_pending_queue", None)
    while queue is not None and not queue.empty():
        msg = queue.get_nowait()
        if msg.reply:  # status messages (408, 404) have none and need nothing
            with contextlib.suppress(Exception):
                await msg.nak()


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
    ``ack_wait`` for redelivery. After a pull that was not full it waits ``linger``
    seconds before the next.
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
        linger: float = 0.0,
    ) -> None:
        self._broker, self._subjects = broker, subjects
        self._subject, self._stream, self._durable = subject, stream, durable
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(kind)
        self._handler, self._max_deliver = handler, max_deliver
        self._batch_size, self._max_wait, self._linger = batch_size, max_wait, linger
        self._config = pull_config(durable, ack_wait, batch_size * 4)

    async def run(self) -> None:
        js = self._broker.connection.jetstream()
        subscription = await pull_subscription(js, self._subject, self._stream, self._config)
        try:
            while True:
                try:
                    messages = await subscription.fetch(self._batch_size, timeout=self._max_wait)
                except TimeoutError:  # nothing waiting (nats' own TimeoutError is one too)
                    continue
                await self.consume(messages)
                if len(messages) < self._batch_size:
                    # A trickle: let it gather, so a transaction carries many rows
                    # rather than one (each costs the database as much as a row).
                    await asyncio.sleep(self._linger)
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
            if is_infrastructure_error(exc):
                # Not one message's fault: all wait for the outage to pass, and
                # none is tried alone (each would only meet the same outage).
                for raw, _ in decoded:
                    await _retry_later(raw, self._stream, outage_delay(raw.metadata.num_delivered))
                return
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
    on_give_up: Callable[[Any, str], Awaitable[None]] | None = None,
) -> None:
    try:
        await handler([item])
    except Exception as exc:
        known = isinstance(exc, RetryLater | PermanentError)
        error = str(exc) if known else f"{type(exc).__name__}: {exc}"
        deliveries = raw.metadata.num_delivered
        # A handler's own verdict (RetryLater, PermanentError) stands; otherwise an
        # outage of ours is waited out, whatever the count of deliveries.
        outage = not known and is_infrastructure_error(exc)
        if isinstance(exc, PermanentError) or (deliveries >= max_deliver and not outage):
            if on_give_up is not None:
                await on_give_up(item, error)
            await _park_raw(broker, subjects, stream, raw, error)
            return
        delay = outage_delay(deliveries) if outage else retry_delay(deliveries)
        if isinstance(exc, RetryLater) and exc.delay is not None:
            delay = min(MAX_DELAY, max(delay, exc.delay))
        log.warning(
            "message.retrying",
            error=error,
            outage=outage,
            deliveries=deliveries,
            delay=round(delay, 2),
            stream=stream,
            sequence=raw.metadata.sequence.stream,
            subject=raw.subject,
        )
        await _retry_later(raw, stream, delay)
    else:
        await raw.ack()


async def _retry_later(raw: Msg, stream: str, delay: float) -> None:
    await raw.nak(delay=delay)
    metrics.MESSAGES_RETRIED.labels(stream).inc()


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
        consumer=meta.consumer or "",
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
    on_give_up: Callable[[Any, str], Awaitable[None]] | None = None,
) -> None:
    """One message from a nats-py pull, with this module's policy:
    park it if it does not decode, else handle it and ack, retry or park."""
    try:
        item = decoder.decode(raw.data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        await _park_raw(broker, subjects, stream, raw, f"undecodable: {exc}")
        return

    async def one(items: list[Any]) -> None:
        await handler(items[0])

    with bind_correlation(getattr(item, "job_id", "") or getattr(item, "key", "")):
        await _one_by_one(broker, subjects, stream, raw, item, one, max_deliver, on_give_up)
