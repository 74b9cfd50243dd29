"""A work consumer split into partitions, each worked by one replica at a time.

Each partition has its own durable pull consumer (``<durable>-p<n>``, filtered
to the partition's subjects), so what nobody works on waits in the stream and
a replica that takes a partition over starts where the last one acked. Within
a partition messages are handled one at a time, in order, with
:func:`work_consumer`'s policy (ack after the handler, retry with backoff,
park after ``max_deliver``, never for an outage). Which partitions this replica works is decided
elsewhere (:class:`phoenix_platform.leases.PartitionLeases`): it calls
:meth:`start` and :meth:`stop`, and ``holds`` says whether the lease is still
safe to work under.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from phoenix_contracts.subjects import Subjects

from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.work import (
    hand_back_buffered,
    handle_raw,
    nak_all,
    pull_config,
    pull_subscription,
)

log = get_logger(__name__)
STOP_TIMEOUT = 10.0


class PartitionedConsumer:
    def __init__(
        self,
        broker: NatsBroker,
        *,
        subjects: Subjects,
        stream: str,
        durable: str,
        subject_of: Callable[[int], str],
        kind: Any,
        handler: Callable[[Any], Awaitable[None]],
        holds: Callable[[int], bool],
        max_deliver: int = 5,
        ack_wait: float = 30.0,
        batch_size: int = 64,
        max_wait: float = 1.0,
    ) -> None:
        self._broker, self._subjects, self._stream = broker, subjects, stream
        self._durable, self._subject_of = durable, subject_of
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(kind)
        self._handler, self._holds = handler, holds
        self._max_deliver, self._ack_wait = max_deliver, ack_wait
        self._batch_size, self._max_wait = batch_size, max_wait
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stopping: set[int] = set()

    @property
    def partitions(self) -> set[int]:
        return set(self._tasks)

    async def start(self, partition: int) -> None:
        if partition in self._tasks:
            return
        self._stopping.discard(partition)
        self._tasks[partition] = asyncio.create_task(
            self._work(partition), name=f"{self._durable}-p{partition}"
        )

    async def stop(self, partition: int) -> None:
        """Finish the message in hand, hand back the rest of the pull, then return."""
        task = self._tasks.pop(partition, None)
        if task is None:
            return
        self._stopping.add(partition)
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=STOP_TIMEOUT)
        except TimeoutError:
            task.cancel()  # a handler stuck this long: its message is redelivered
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except Exception:
            log.exception("partition.crashed", durable=self._durable, partition=partition)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(p) for p in list(self._tasks)))

    def _active(self, partition: int) -> bool:
        return partition not in self._stopping and self._holds(partition)

    async def _work(self, partition: int) -> None:
        delay = 0.5
        while partition not in self._stopping:
            try:
                await self._pull(partition)
            except Exception as exc:
                if partition in self._stopping:
                    return
                log.warning(
                    "partition.pull_failed",
                    durable=self._durable,
                    partition=partition,
                    error=f"{type(exc).__name__}: {exc}",
                    retry_in=delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _pull(self, partition: int) -> None:
        durable = f"{self._durable}-p{partition}"
        config = pull_config(durable, self._ack_wait, self._batch_size * 4)
        js = self._broker.connection.jetstream()
        subscription = await pull_subscription(
            js, self._subject_of(partition), self._stream, config
        )
        try:
            while partition not in self._stopping:
                if not self._holds(partition):
                    # The lease could not be renewed in time: another replica may take
                    # this partition over any moment now, so touch nothing until ours again.
                    await asyncio.sleep(0.2)
                    continue
                try:
                    messages = await subscription.fetch(self._batch_size, timeout=self._max_wait)
                except TimeoutError:  # nothing waiting (nats' own TimeoutError is one too)
                    continue
                await self._handle(partition, messages)
        finally:
            await hand_back_buffered(subscription)
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def _handle(self, partition: int, messages: list[Msg]) -> None:
        for index, raw in enumerate(messages):
            if not self._active(partition):
                # Handed back at once, so the next owner need not wait out ack_wait.
                await nak_all(messages[index:])
                return
            await handle_raw(
                self._broker,
                self._subjects,
                self._stream,
                raw,
                self._decoder,
                self._handler,
                self._max_deliver,
            )
