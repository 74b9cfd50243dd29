"""Sessions in Redis, stored under a digest of the token, never the token itself.

A leaked Redis dump therefore gives no usable session. Each use slides the
idle expiry forward; a session also ends ``absolute_seconds`` after login
however busy it is. A per-user set indexes a user's sessions so they can be
listed and ended together (password change). The public id of a session is a
prefix of its digest: it names the session without being able to use it.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import msgspec
from redis.asyncio import Redis

PUBLIC_ID_LENGTH = 16


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    organization_id: str
    created_at: float
    client_address: str = ""
    last_used_at: float = 0.0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_id(token: str) -> str:
    return digest_of(token)[:PUBLIC_ID_LENGTH]


class SessionStore:
    def __init__(
        self, redis: Redis, namespace: str, idle_seconds: int, absolute_seconds: int
    ) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:session:"
        self._index = f"{namespace}:user-sessions:"
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds

    async def create(self, record: SessionRecord) -> str:
        token = secrets.token_urlsafe(32)  # 256 bits
        digest = digest_of(token)
        record = msgspec.structs.replace(record, last_used_at=record.created_at)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._prefix + digest, msgspec.json.encode(record), ex=self.idle_seconds)
            pipe.sadd(self._index + record.user_id, digest)
            pipe.expire(self._index + record.user_id, self.absolute_seconds)
            await pipe.execute()
        return token

    async def resolve(self, token: str) -> SessionRecord | None:
        key = self._prefix + digest_of(token)
        raw = await self._redis.get(key)
        if raw is None:
            return None
        record = msgspec.json.decode(raw, type=SessionRecord)
        now = time.time()
        if now - record.created_at > self.absolute_seconds:
            await self._redis.delete(key)
            return None
        # Slide the idle expiry, never past the absolute end.
        ttl = int(min(self.idle_seconds, record.created_at + self.absolute_seconds - now)) + 1
        used = msgspec.structs.replace(record, last_used_at=now)
        await self._redis.set(key, msgspec.json.encode(used), ex=ttl)
        return used

    async def end(self, token: str) -> SessionRecord | None:
        """Log out: the session is gone at once."""
        digest = digest_of(token)
        raw = await self._redis.getdel(self._prefix + digest)
        if raw is None:
            return None
        record = msgspec.json.decode(raw, type=SessionRecord)
        await self._redis.srem(self._index + record.user_id, digest)
        return record

    async def of_user(self, user_id: str) -> list[tuple[str, SessionRecord]]:
        """(public id, record) of every live session of ``user_id``; forgets dead ones."""
        digests = sorted(_text(d) for d in await self._redis.smembers(self._index + user_id))
        if not digests:
            return []
        values = await self._redis.mget([self._prefix + d for d in digests])
        live, dead = [], []
        for digest, raw in zip(digests, values, strict=True):
            if raw is None:
                dead.append(digest)
            else:
                live.append(
                    (digest[:PUBLIC_ID_LENGTH], msgspec.json.decode(raw, type=SessionRecord))
                )
        if dead:
            await self._redis.srem(self._index + user_id, *dead)
        return live

    async def revoke(self, user_id: str, session_id: str) -> bool:
        for digest in [_text(d) for d in await self._redis.smembers(self._index + user_id)]:
            if digest.startswith(session_id) and len(session_id) == PUBLIC_ID_LENGTH:
                await self._redis.delete(self._prefix + digest)
                await self._redis.srem(self._index + user_id, digest)
                return True
        return False

    async def end_all(self, user_id: str) -> int:
        digests = [_text(d) for d in await self._redis.smembers(self._index + user_id)]
        if digests:
            await self._redis.delete(*[self._prefix + d for d in digests])
        await self._redis.delete(self._index + user_id)
        return len(digests)
