"""Sessions in Redis, stored under a digest of the token, never the token itself.

A leaked Redis dump therefore gives no usable session. Each use slides the
idle expiry forward.
"""

from __future__ import annotations

import hashlib
import secrets

import msgspec
from redis.asyncio import Redis


class SessionRecord(msgspec.Struct, frozen=True):
    user_id: str
    organization_id: str
    created_at: float


class SessionStore:
    def __init__(self, redis: Redis, namespace: str, idle_seconds: int) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:session:"
        self.idle_seconds = idle_seconds

    def _key(self, token: str) -> str:
        return self._prefix + hashlib.sha256(token.encode()).hexdigest()

    async def create(self, record: SessionRecord) -> str:
        token = secrets.token_urlsafe(32)  # 256 bits
        await self._redis.set(self._key(token), msgspec.json.encode(record), ex=self.idle_seconds)
        return token

    async def resolve(self, token: str) -> SessionRecord | None:
        key = self._key(token)
        raw = await self._redis.getex(key, ex=self.idle_seconds)
        if raw is None:
            return None
        return msgspec.json.decode(raw, type=SessionRecord)
