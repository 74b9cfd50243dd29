"""``Idempotency-Key`` on POST: a retried request gets the first answer, not a second effect.

Keys are scoped to the caller's credential (a digest of it) and remembered in
Redis for 24 hours with a fingerprint of the request (method, path, body): the
same key with a different request is refused (422), and a repeat that arrives
while the first is still running is told so (409) instead of running twice.
Only successful answers (2xx) are remembered, so a request that failed can be
retried with the same key.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.asyncio import Redis

HEADER = b"idempotency-key"
TTL_SECONDS = 24 * 3600
IN_FLIGHT_SECONDS = 60
MAX_KEY_LENGTH = 255


class Stored(msgspec.Struct):
    fingerprint: str
    status: int = 0  # 0 while the first request runs
    body: bytes = b""
    content_type: str = "application/json"


def idempotency_middleware(redis: Redis, namespace: str) -> object:
    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope["method"] != "POST":
                await app(scope, receive, send)
                return
            headers = dict(scope["headers"])
            key = headers.get(HEADER)
            if key is None:
                await app(scope, receive, send)
                return
            if not 0 < len(key) <= MAX_KEY_LENGTH:
                await _problem(send, 400, "Idempotency-Key must be 1 to 255 characters")
                return
            body, replay = await _buffer(receive)
            credential = headers.get(b"authorization", b"") + headers.get(b"cookie", b"")
            slot = (
                f"{namespace}:idempotency:" + hashlib.sha256(credential + b"\0" + key).hexdigest()
            )
            fingerprint = hashlib.sha256(
                scope["method"].encode() + scope["path"].encode() + b"\0" + body
            ).hexdigest()
            claimed = await redis.set(
                slot, msgspec.json.encode(Stored(fingerprint)), nx=True, ex=IN_FLIGHT_SECONDS
            )
            if not claimed:
                await _answer_repeat(redis, slot, fingerprint, send)
                return
            await _run_and_remember(app, scope, replay, send, redis, slot, fingerprint)

        return middleware

    return factory


async def _answer_repeat(redis: Redis, slot: str, fingerprint: str, send: Send) -> None:
    raw = await redis.get(slot)
    stored = msgspec.json.decode(raw, type=Stored) if raw else None
    if stored is None or stored.fingerprint != fingerprint:
        await _problem(send, 422, "this Idempotency-Key was used for a different request")
    elif stored.status == 0:
        await _problem(send, 409, "a request with this Idempotency-Key is still running")
    else:
        await _send(send, stored.status, stored.content_type, stored.body, replayed=True)


async def _run_and_remember(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    redis: Redis,
    slot: str,
    fingerprint: str,
) -> None:
    answer = Stored(fingerprint, status=500)
    chunks: list[bytes] = []

    async def capture(message: Any) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    answer.content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
        await send(message)

    try:
        await app(scope, receive, capture)
    finally:
        if 200 <= answer.status < 300:
            answer.body = b"".join(chunks)
            await redis.set(slot, msgspec.json.encode(answer), ex=TTL_SECONDS)
        else:
            await redis.delete(slot)


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    chunks: list[bytes] = []
    more = True
    while more:
        message: Any = await receive()
        chunks.append(message.get("body", b""))
        more = bool(message.get("more_body", False))
    body = b"".join(chunks)
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _problem(send: Send, status: int, detail: str) -> None:
    body = msgspec.json.encode(
        {"type": "about:blank", "title": "Error", "status": status, "detail": detail}
    )
    await _send(send, status, "application/problem+json", body)


async def _send(
    send: Send, status: int, content_type: str, body: bytes, *, replayed: bool = False
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
