"""Password throttling in Redis: per account and per client address.

Failures are counted in fixed windows; over the limit, attempts are refused
with the seconds left until the window ends, and a correct password does not
get through either (otherwise throttling would only slow guessing down, not
stop it). A success clears the account's count, not the address's: one
attacker guessing many accounts from one address stays limited.

Every password check takes a slot first, atomically (one Lua script checks
every limit and counts the attempt), so however many guesses arrive at once,
at most ``limit`` passwords are ever checked per window. A slot counts as a
failure unless the attempt gives it back: a success, or an attempt that ended
without a verdict (two-factor code still to come, an error). Logins and
current-password checks of a signed-in user share the account's budget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from phoenix_contracts.base import Rejected
from redis.asyncio import Redis

T = TypeVar("T")

# Refusals that are a verdict on a guess (wrong password, wrong code): they keep
# their slot. Any other refusal (code still to come, server trouble) gives it back.
FAILURES = frozenset({"unauthorized", "forbidden", "two_factor_invalid"})

# KEYS: counters; ARGV: their limits, then the window. Returns the seconds to
# wait (0: the attempt is counted and may go on).
_TAKE_SLOT = """
local window = tonumber(ARGV[#KEYS + 1])
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('get', key) or '0') >= tonumber(ARGV[i]) then
    wait = math.max(wait, redis.call('ttl', key), 1)
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('incr', key)
  redis.call('expire', key, window, 'NX')
end
return 0
"""

# A slot given back never takes a counter below zero (its window may have ended).
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('get', key) or '0') > 0 then redis.call('decr', key) end
end
return 0
"""


class LoginThrottle:
    def __init__(
        self, redis: Redis, namespace: str, *, per_account: int, per_address: int, window: int
    ) -> None:
        self._prefix = f"{namespace}:login-failures:"
        self._limits = {"account": per_account, "address": per_address}
        self._window = window
        self._take_slot = redis.register_script(_TAKE_SLOT)
        self._give_back = redis.register_script(_GIVE_BACK)
        self._redis = redis

    def _keys(self, account: str, address: str) -> dict[str, str]:
        # Hashed: usernames that never existed should not sit in Redis in clear.
        keyed = {"account": account, "address": address}
        return {
            kind: self._prefix + kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:32]
            for kind, value in keyed.items()
            if value
        }

    async def guarded(
        self, account: str, address: str, check: Callable[[], Awaitable[T | Rejected]]
    ) -> T | Rejected:
        """``check()`` within the budget: refused over a limit, counted when it fails."""
        if wait := await self.attempt(account, address):
            return throttled(wait)
        try:
            outcome = await check()
        except BaseException:
            await self.released(account, address)  # no verdict: not a failure
            raise
        if not isinstance(outcome, Rejected):
            await self.succeeded(account, address)
        elif outcome.code not in FAILURES:
            await self.released(account, address)
        return outcome

    async def attempt(self, account: str, address: str) -> int:
        """Seconds to wait when over a limit; else 0, and the attempt counts as a failure
        until ``succeeded`` or ``released``."""
        keys = self._keys(account, address)
        limits = [self._limits[kind] for kind in keys]
        return int(await self._take_slot(keys=list(keys.values()), args=[*limits, self._window]))

    async def released(self, account: str, address: str) -> None:
        """The attempt ended without a verdict on the password: it does not count."""
        await self._give_back(keys=list(self._keys(account, address).values()))

    async def succeeded(self, account: str, address: str) -> None:
        """The right password: the account starts afresh; the address gets its slot back."""
        await self._redis.delete(*self._keys(account, "").values())
        if address:
            await self.released("", address)


def throttled(wait: int) -> Rejected:
    return Rejected(
        code="throttled", message=f"too many wrong passwords; retry in {wait} s", retry_after=wait
    )
