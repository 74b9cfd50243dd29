"""Leadership among scheduler replicas, held as a key in a NATS KV bucket.

Only the holder publishes check jobs; the others follow the log and stay
ready. The key lives in a bucket whose entries expire after ``ttl``: the
holder renews it every ``ttl / 3`` with a compare-and-set on the revision it
wrote, so a holder that pauses or dies loses the key and another replica's
create succeeds. A graceful stop deletes the key for an immediate hand-over.
Job ids are deterministic, so in the short overlap a lost lease can cause
the stream's duplicate window still merges the same job from two replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from phoenix_platform.leases import lease_bucket
from phoenix_platform.logging import get_logger

__all__ = ["KEY", "Lease", "lease_bucket"]
log = get_logger(__name__)
KEY = "leader"


class Lease:
    def __init__(
        self,
        kv: KeyValue,
        holder: str,
        ttl: float,
        on_change: Callable[[bool], None] = lambda held: None,
    ) -> None:
        self._kv = kv
        self._holder = holder.encode()
        self._ttl = ttl
        self._on_change = on_change
        self._revision: int | None = None

    @property
    def held(self) -> bool:
        return self._revision is not None

    async def run(self) -> None:
        while True:
            await self._step()
            await asyncio.sleep(self._ttl / 3)

    async def release(self) -> None:
        if self._revision is None:
            return
        revision, self._revision = self._revision, None
        self._on_change(False)
        with contextlib.suppress(KeyWrongLastSequenceError, KeyNotFoundError):
            await self._kv.delete(KEY, last=revision)  # unless someone else holds it already

    async def _step(self) -> None:
        try:
            if self._revision is None:
                self._revision = await self._kv.create(KEY, self._holder)
                log.info("scheduler.lease_acquired")
                self._on_change(True)
            else:
                self._revision = await self._kv.update(KEY, self._holder, last=self._revision)
        except KeyWrongLastSequenceError:
            if self._revision is not None:
                log.warning("scheduler.lease_lost")
                self._revision = None
                self._on_change(False)
