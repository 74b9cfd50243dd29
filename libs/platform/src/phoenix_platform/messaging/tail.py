"""Reading the event log in order, from a position, in batches.

Projections and in-memory read models (scheduler, evaluator, notifier) follow
the log with an ordered push consumer: the server replays from
``start_sequence`` and the client recreates the consumer by itself if it sees
a gap, so events arrive exactly in stream order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError


@dataclass(frozen=True)
class LogEntry:
    sequence: int
    subject: str
    data: bytes
    pending: int  # messages left in the stream after this one, at delivery time


async def last_sequence(js: JetStreamContext, stream: str, subject: str) -> int:
    """The sequence of the newest message on ``subject`` (wildcards allowed); 0 when none."""
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return 0
    if not info.state.messages:
        return 0
    if subject.endswith(">") and subject.count(".") <= 2:
        return int(info.state.last_seq)  # the whole stream (our streams hold one subject tree)
    try:
        return int((await js.get_last_msg(stream, subject)).seq or 0)
    except NotFoundError:
        return 0


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
    one entry at a time when live.
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
        _raise_if_cancelled()
        try:
            msg = await sub.next_msg(timeout=30)
        except TimeoutError:  # nats' timeout subclasses it; idle is not an error
            _raise_if_cancelled()
            continue
        _raise_if_cancelled()
        return msg


def _raise_if_cancelled() -> None:
    """A cancel can be lost before it reaches us: nats' next_msg waits in a task of its
    own under ``wait_for`` (a cancel landing as a message arrives comes back as the
    message), and a database driver may absorb one while it cleans a connection up.
    The task would then wait for the log for ever. Honour a cancel that was asked for."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _entry(msg: Msg) -> LogEntry:
    meta = msg.metadata
    return LogEntry(
        sequence=meta.sequence.stream,
        subject=msg.subject,
        data=msg.data,
        pending=meta.num_pending,
    )
