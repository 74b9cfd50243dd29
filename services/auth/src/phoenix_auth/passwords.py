"""argon2id password hashing, off the event loop (each hash costs tens of ms of CPU)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from phoenix_platform.metrics import PASSWORD_CHECKS

# OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("phoenix-timing-equalizer")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            ok = _hasher.verify(password_hash or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return False
        return ok and password_hash is not None

    right = await asyncio.to_thread(verify)
    # Counted here, where the work happens: the throttle's bound is visible on /metrics.
    PASSWORD_CHECKS.labels(outcome="right" if right else "wrong").inc()
    return right


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with other parameters than today's: replace it at login."""
    return _hasher.check_needs_rehash(password_hash)
