"""Reading the event log in order, from a position, in batches.

Projections and in-memory read models (scheduler, evaluator, notifier) follow
the log with an ordered push consumer: the server replays from
``start_sequence`` and the client recreates the consumer by itself if it sees
a gap, so events arrive exactly in stream order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy


@dataclass(frozen=True)
class LogEntry:
    sequence: int
    subject: str
    data: bytes
    pending: int  # messages left in the stream after this one, at delivery time


async def follow(
    js: JetStreamContext,
    stream: str,
    subject: str,
    start_sequence: int,
    *,
    batch_size: int = 500,
) -> AsyncIterator[list[LogEntry]]:
    """Yield batches of entries from ``start_sequence`` on, forever.

    A batch is whatever has arrived, up to ``batch_size``: large during replay,
    one entry at a time when live. If nothing matches at the start, one empty
    batch is yielded first, so the caller learns it is caught up.
    """
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(start_sequence, 1)
    )
    sub = await js.subscribe(
        subject,
        stream=stream,
        ordered_consumer=True,
        config=config,
        pending_msgs_limit=batch_size * 20,
    )
    try:
        if (await sub.consumer_info()).num_pending == 0:
            yield []
        while True:
            first = await _next(sub)
            batch = [_entry(first)]
            while len(batch) < batch_size and sub.pending_msgs > 0:
                batch.append(_entry(await sub.next_msg(timeout=1)))
            yield batch
    finally:
        await sub.unsubscribe()


async def _next(sub: JetStreamContext.PushSubscription) -> Msg:
    while True:
        try:
            return await sub.next_msg(timeout=30)
        except TimeoutError:  # nats' timeout subclasses it; idle is not an error
            continue


def _entry(msg: Msg) -> LogEntry:
    meta = msg.metadata
    return LogEntry(
        sequence=meta.sequence.stream,
        subject=msg.subject,
        data=msg.data,
        pending=meta.num_pending,
    )
