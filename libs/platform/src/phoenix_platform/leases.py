"""Work split among replicas with leases in a NATS KV bucket.

The bucket's entries expire after ``ttl``; a holder renews each of its keys
every ``ttl / 3`` by compare-and-set on the revision it wrote, so a replica
that pauses or dies loses its keys and a live one's ``create`` takes them over.

:class:`PartitionLeases` splits a fixed number of partitions among whichever
replicas are alive: each announces itself under ``member.<id>``, takes up to
its fair share (partitions / members, rounded up) and gives back what exceeds
it when a replica joins. Every replica tries partitions in its own order
(rendezvous hashing), so claims rarely collide and the split stays stable.

A partition is never worked by two replicas at once: a replica stops its work
on a partition before it gives the lease back, and stops working it by itself
once its last renewal is older than ``SAFE_FRACTION`` of the TTL — before the
key can expire and pass to another replica — even when it cannot reach NATS.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import re
import time
from collections.abc import Awaitable, Callable

from nats.js import JetStreamContext
from nats.js.errors import (
    APIError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoKeysError,
)
from nats.js.kv import KeyValue

from phoenix_platform.logging import get_logger

log = get_logger(__name__)
# Work stops this far into the TTL without a renewal: the rest is margin for a
# renewal in flight and for clocks that run at slightly different speeds.
SAFE_FRACTION = 0.7
MEMBER = "member."


async def lease_bucket(js: JetStreamContext, name: str, ttl: float) -> KeyValue:
    try:
        return await js.key_value(name)
    except BucketNotFoundError:
        return await js.create_key_value(bucket=name, ttl=ttl, history=1)


def fair_share(partitions: int, members: int) -> int:
    return math.ceil(partitions / max(1, members))


def preference(replica: str, partitions: int) -> list[int]:
    """The order in which ``replica`` tries partitions: its own shuffle of them."""

    def weight(partition: int) -> bytes:
        return hashlib.blake2b(f"{replica}/{partition}".encode(), digest_size=8).digest()

    return sorted(range(partitions), key=weight, reverse=True)


def plan(owned: set[int], order: list[int], share: int) -> tuple[list[int], list[int]]:
    """What to give back and what to try to take: (release, candidates).

    Given back first are the partitions this replica likes least, so when the
    members change each partition tends to stay with the replica that prefers it.
    """
    if len(owned) > share:
        ranked = [p for p in order if p in owned]
        return ranked[share:], []
    return [], [p for p in order if p not in owned]


Callback = Callable[[int], Awaitable[None]]


class PartitionLeases:
    def __init__(
        self,
        kv: KeyValue,
        replica: str,
        partitions: int,
        ttl: float,
        on_gain: Callback,
        on_loss: Callback,
    ) -> None:
        self._kv = kv
        self._replica = replica
        self._value = replica.encode()
        # KV keys allow only [-/_=.a-zA-Z0-9]; a host name may hold more.
        self._member = MEMBER + re.sub(r"[^-_=a-zA-Z0-9]", "_", replica)
        self._partitions = partitions
        self._ttl = ttl
        self._on_gain, self._on_loss = on_gain, on_loss
        self._order = preference(replica, partitions)
        self._revisions: dict[int, int] = {}
        self._renewed: dict[int, float] = {}
        self._closed = False
        self._lock = asyncio.Lock()

    @property
    def owned(self) -> set[int]:
        return set(self._revisions)

    def holds(self, partition: int) -> bool:
        """True while work on ``partition`` is safe: renewed recently enough."""
        renewed = self._renewed.get(partition)
        return renewed is not None and time.monotonic() - renewed < self._ttl * SAFE_FRACTION

    async def run(self) -> None:
        try:
            while not self._closed:
                try:
                    await self.step()
                except (TimeoutError, ConnectionError, OSError) as exc:
                    # NATS is away: keep trying; holds() ends the work in time.
                    log.warning("leases.step_failed", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(self._ttl / 3)
        finally:
            await asyncio.gather(*(self._drop(p) for p in list(self._revisions)))

    async def step(self) -> None:
        async with self._lock:  # never at the same time as a release
            if not self._closed:
                await self._step()

    async def _step(self) -> None:
        await self._kv.put(self._member, b"")
        share = fair_share(self._partitions, len(await self._members()))
        for partition, revision in list(self._revisions.items()):
            renewing_since = time.monotonic()
            try:
                self._revisions[partition] = await self._kv.update(
                    _key(partition), self._value, last=revision
                )
                self._renewed[partition] = renewing_since
            except KeyWrongLastSequenceError:
                log.warning("leases.lost", partition=partition)
                await self._drop(partition)
        release, candidates = plan(self.owned, self._order, share)
        if release:
            await self._release(release)
        for partition in candidates:
            if len(self._revisions) >= share or self._closed:
                break
            taking_since = time.monotonic()
            try:
                self._revisions[partition] = await self._kv.create(_key(partition), self._value)
            except (KeyWrongLastSequenceError, KeyNotFoundError):
                # Held by another replica (or its key expired just as nats-py
                # looked at it, which it reports as not found): try later.
                continue
            self._renewed[partition] = taking_since
            log.info("leases.gained", partition=partition, share=share)
            await self._on_gain(partition)

    async def release_all(self) -> None:
        """The replica is stopping: give everything back and take nothing more."""
        self._closed = True
        async with self._lock:
            await self._release(list(self._revisions))
            with contextlib.suppress(Exception):
                await self._kv.delete(self._member)

    async def _release(self, partitions: list[int]) -> None:
        """Stop the work first (all at once), then give the keys back for an
        immediate hand-over instead of one after the TTL."""
        revisions = {p: self._revisions[p] for p in partitions if p in self._revisions}
        await asyncio.gather(*(self._drop(p) for p in revisions))
        for partition, revision in revisions.items():
            # Already expired or taken over (wrong last sequence) means nothing to give back.
            with contextlib.suppress(KeyNotFoundError, APIError):
                await self._kv.delete(_key(partition), last=revision)
            log.info("leases.released", partition=partition)

    async def _drop(self, partition: int) -> None:
        if self._revisions.pop(partition, None) is None:
            return
        self._renewed.pop(partition, None)
        await self._on_loss(partition)

    async def _members(self) -> list[str]:
        try:
            keys = await self._kv.keys()
        except NoKeysError:
            return []
        return [key for key in keys if key.startswith(MEMBER)]


def _key(partition: int) -> str:
    return f"partition.{partition}"
