"""Sessions in Redis, stored under a digest of the token, never the token itself.

A leaked Redis dump therefore gives no usable session. Each use slides the
idle expiry forward; a session also ends ``absolute_seconds`` after login
however busy it is. A per-user set indexes a user's sessions so they can be
listed and ended together (password change). The public id of a session is a
prefix of its digest: it names the session without being able to use it.

Ending sessions must win every race with their use:
- a use only ever rewrites a session that still exists (a Lua script checks and
  writes in one step), so a request in flight while the session is ended can
  never write it back;
- each user has a generation, stored in every session at creation; ending all
  of a user's sessions raises it first, so every older session is dead at that
  instant, even one the per-user index does not know about. The generation
  key has no expiry: one small integer per user who ever ended all sessions.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import msgspec
from redis.asyncio import Redis

PUBLIC_ID_LENGTH = 16

# KEYS: the session, the user's generation. ARGV: the new value, its TTL, the
# session's generation. Written only if the session still exists and its
# generation is the user's current one.
_TOUCH = """
if redis.call('exists', KEYS[1]) == 0 then return 0 end
if tonumber(redis.call('get', KEYS[2]) or '0') ~= tonumber(ARGV[3]) then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    organization_id: str
    created_at: float
    client_address: str = ""
    last_used_at: float = 0.0
    generation: int = 0  # the user's generation when the session began


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_id(token: str) -> str:
    return digest_of(token)[:PUBLIC_ID_LENGTH]


def is_live(record: SessionRecord, generation: int, now: float, absolute_seconds: int) -> bool:
    """A session is usable while it is of the user's generation and younger than its limit."""
    return record.generation == generation and now - record.created_at <= absolute_seconds


class SessionStore:
    def __init__(
        self, redis: Redis, namespace: str, idle_seconds: int, absolute_seconds: int
    ) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:session:"
        self._index = f"{namespace}:user-sessions:"
        self._generation = f"{namespace}:user-generation:"
        self._touch = redis.register_script(_TOUCH)
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds

    async def create(self, record: SessionRecord) -> str:
        token = secrets.token_urlsafe(32)  # 256 bits
        digest = digest_of(token)
        # Read before the write: if all sessions end in between, this one is
        # born of the old generation and dead, which is the safe side.
        generation = await self._generation_of(record.user_id)
        record = msgspec.structs.replace(
            record, last_used_at=record.created_at, generation=generation
        )
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
        generation_key = self._generation + record.user_id
        if not is_live(
            record, await self._generation_of(record.user_id), now, self.absolute_seconds
        ):
            await self._redis.delete(key)
            return None
        # Slide the idle expiry, never past the absolute end.
        ttl = int(min(self.idle_seconds, record.created_at + self.absolute_seconds - now)) + 1
        used = msgspec.structs.replace(record, last_used_at=now)
        touched = await self._touch(
            keys=[key, generation_key], args=[msgspec.json.encode(used), ttl, record.generation]
        )
        # Not touched: the session ended while this request was being resolved.
        return used if touched == 1 else None

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
        generation = await self._generation_of(user_id)
        now = time.time()
        live, dead = [], []
        for digest, raw in zip(digests, values, strict=True):
            record = None if raw is None else msgspec.json.decode(raw, type=SessionRecord)
            if record is None or not is_live(record, generation, now, self.absolute_seconds):
                dead.append(digest)
            else:
                live.append((digest[:PUBLIC_ID_LENGTH], record))
        if dead:
            await self._redis.delete(*[self._prefix + d for d in dead])
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
        # The generation first: from this instant every session of the user is
        # dead, indexed or not; deleting them below only frees the memory.
        await self._redis.incr(self._generation + user_id)
        digests = [_text(d) for d in await self._redis.smembers(self._index + user_id)]
        if digests:
            # Only what was read leaves the index: a session begun meanwhile stays listed.
            await self._redis.delete(*[self._prefix + d for d in digests])
            await self._redis.srem(self._index + user_id, *digests)
        return len(digests)

    async def _generation_of(self, user_id: str) -> int:
        return int(await self._redis.get(self._generation + user_id) or 0)
