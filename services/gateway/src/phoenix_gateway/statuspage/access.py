"""Unlocking password-protected status pages, and throttling wrong passwords.

A right password earns a random token, sent back as an HttpOnly cookie and
kept in Redis only as its SHA-256 digest, with a time to live. The token is
bound to the password in force (its fingerprint): changing or removing the
password ends every unlock made with the old one.

Wrong passwords are counted per page and client address in fixed windows;
over the limit every try is refused with the seconds left, the right
password too (otherwise throttling would only slow guessing down).
"""

from __future__ import annotations

import hashlib
import secrets

from redis.asyncio import Redis

UNLOCK_SECONDS = 12 * 3600
FAILURES_ALLOWED = 10
FAILURE_WINDOW = 900
COOKIE_PREFIX = "phoenix_status_"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def cookie_name(page_id: str) -> str:
    return COOKIE_PREFIX + page_id.replace("-", "")


class PageAccess:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:status-page"

    def _token_key(self, page_id: str, token: str) -> str:
        return f"{self._prefix}:unlock:{page_id}:{_digest(token)}"

    def _failures_key(self, slug: str, address: str) -> str:
        return f"{self._prefix}:unlock-failures:{_digest(slug + chr(0) + address)[:32]}"

    async def grant(self, page_id: str, password_fingerprint: str) -> str:
        token = secrets.token_urlsafe(32)
        await self._redis.set(
            self._token_key(page_id, token), password_fingerprint, ex=UNLOCK_SECONDS
        )
        return token

    async def allowed(self, page_id: str, password_fingerprint: str, token: str | None) -> bool:
        if not token or len(token) > 100:
            return False
        held = await self._redis.get(self._token_key(page_id, token))
        if held is None:
            return False
        held_text = held.decode() if isinstance(held, bytes) else str(held)
        return secrets.compare_digest(held_text, password_fingerprint)

    async def retry_after(self, slug: str, address: str) -> int:
        """Seconds until this address may try this page's password again; 0 when it may now."""
        key = self._failures_key(slug, address)
        if int(await self._redis.get(key) or 0) < FAILURES_ALLOWED:
            return 0
        return max(1, int(await self._redis.ttl(key)))

    async def failed(self, slug: str, address: str) -> None:
        key = self._failures_key(slug, address)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, FAILURE_WINDOW, nx=True)
            await pipe.execute()
