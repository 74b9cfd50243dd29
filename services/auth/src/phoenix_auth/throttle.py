"""Login throttling in Redis: per account and per client address.

Failures are counted in fixed windows; over the limit, logins are refused
with the seconds left until the window ends, and a correct password does not
get through either (otherwise throttling would only slow guessing down, not
stop it). A success clears the account's count, not the address's: one
attacker guessing many accounts from one address stays limited.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis


class LoginThrottle:
    def __init__(
        self, redis: Redis, namespace: str, *, per_account: int, per_address: int, window: int
    ) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:login-failures:"
        self._limits = {"account": per_account, "address": per_address}
        self._window = window

    def _keys(self, account: str, address: str) -> dict[str, str]:
        # Hashed: usernames that never existed should not sit in Redis in clear.
        keyed = {"account": account, "address": address}
        return {
            kind: self._prefix + kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:32]
            for kind, value in keyed.items()
            if value
        }

    async def retry_after(self, account: str, address: str) -> int:
        """Seconds until a login may be tried again; 0 when it may now."""
        keys = self._keys(account, address)
        waits = [0]
        for kind, key in keys.items():
            count = int(await self._redis.get(key) or 0)
            if count >= self._limits[kind]:
                waits.append(max(1, int(await self._redis.ttl(key))))
        return max(waits)

    async def failed(self, account: str, address: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in self._keys(account, address).values():
                pipe.incr(key)
                pipe.expire(key, self._window, nx=True)
            await pipe.execute()

    async def succeeded(self, account: str) -> None:
        await self._redis.delete(*self._keys(account, "").values())
