"""A small TTL cache in front of :meth:`NetGuard.resolve`.

Checks hit the same few hosts over and over; a getaddrinfo per check costs a
thread hop. Only answers the guard approved are stored, so the cache can never
hand out an address that was refused, and an entry expires after ``ttl`` so a
DNS change (or a rebinding attempt) is re-checked soon.
"""

from __future__ import annotations

import time

from phoenix_platform.netguard import IPAddress, NetGuard

MAX_ENTRIES = 10_000  # bounded: user-chosen hostnames must not grow memory forever


class CachingResolver:
    def __init__(self, guard: NetGuard, ttl: float) -> None:
        self._guard = guard
        self._ttl = ttl
        self._cache: dict[tuple[str, int], tuple[IPAddress, float]] = {}

    async def resolve(self, host: str, port: int) -> IPAddress:
        key = (host, port)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        address = await self._guard.resolve(host, port)  # raises TargetRefused: nothing cached
        if self._ttl > 0:
            if len(self._cache) >= MAX_ENTRIES:
                self._evict(now)
            self._cache[key] = (address, now + self._ttl)
        return address

    def _evict(self, now: float) -> None:
        expired = [key for key, (_, until) in self._cache.items() if until <= now]
        for key in expired:
            del self._cache[key]
        if len(self._cache) >= MAX_ENTRIES:  # all fresh: drop the oldest half (dicts keep order)
            for key in list(self._cache)[: MAX_ENTRIES // 2]:
                del self._cache[key]

    def clear(self) -> None:
        self._cache.clear()
