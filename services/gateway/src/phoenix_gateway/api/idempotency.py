"""``Idempotency-Key`` on POST: a retried request gets the first answer, not a second effect.

The caller is authenticated and authorized first, exactly as the route would
(``PrincipalResolver.authorize``), so a replay needs a credential that is valid
now: a logged-out token gets 401 and a caller who lost the right gets 403, never
the stored answer. Keys are scoped to that principal (user, API key,
organization, role and scopes), not to a digest of raw headers: the same key in
another organization (``X-Phoenix-Organization``) is another request.

Answers are remembered in Redis for 24 hours with a fingerprint of the request
(method, path, query, body): the same key with a different request is refused
(422), and a repeat that arrives while the first is still running is told so
(409) instead of running twice. Only successful answers (2xx) are remembered,
so a request that failed can be retried with the same key.

The key is refused (400, naming the header) where no answer may be replayed:
- routes that need no authentication (login, signup, status-page unlock, push):
  there is no principal to scope a key to;
- routes whose answer carries a credential (a session, an API key, a TOTP secret
  or recovery codes, an invitation token), marked ``opt={CARRIES_CREDENTIAL: True}``:
  such an answer must never rest in Redis, and without it there is nothing to replay.

The body is read through Litestar (``request.body()``), so it is bounded by
``PHOENIX_MAX_BODY_BYTES`` like every other read, and the route then reads
the same bytes from Litestar's cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send
from phoenix_contracts.identity import Principal
from redis.asyncio import Redis

from phoenix_gateway.api.problems import Problem, problem_handler

HEADER = b"idempotency-key"
FIELD = "Idempotency-Key"
TTL_SECONDS = 24 * 3600
IN_FLIGHT_SECONDS = 60
MAX_KEY_LENGTH = 255
# Route opt: the answer carries a credential, so it is never stored (see above).
CARRIES_CREDENTIAL = "carries_credential"


class Authorizer(Protocol):
    async def authorize(self, request: Request[Any, Any, Any]) -> Principal: ...


class Stored(msgspec.Struct):
    fingerprint: str
    status: int = 0  # 0 while the first request runs
    body: bytes = b""
    content_type: str = "application/json"


def refusal(handler: BaseRouteHandler) -> str | None:
    """Why this route takes no Idempotency-Key, or None when it does."""
    if "principal" not in handler.parsed_fn_signature.parameters:
        return "this route needs no authentication, so its answers are never replayed"
    if handler.opt.get(CARRIES_CREDENTIAL):
        return "the answer of this route carries a credential, which is never stored"
    return None


def slot_of(namespace: str, principal: Principal, key: bytes) -> str:
    """The Redis key of one Idempotency-Key: who asks, where, with which rights."""
    who = "\0".join(
        [
            principal.user.id,
            principal.api_key_id,
            principal.organization_id,
            principal.role,
            ",".join(sorted(principal.scopes)),
        ]
    )
    return f"{namespace}:idempotency:" + hashlib.sha256(who.encode() + b"\0" + key).hexdigest()


def fingerprint_of(method: str, path: str, query: bytes, body: bytes) -> str:
    request = b"\0".join([method.encode(), path.encode(), query, body])
    return hashlib.sha256(request).hexdigest()


def idempotency_middleware(
    redis: Redis, namespace: str, resolver: Authorizer
) -> Callable[[ASGIApp], ASGIApp]:
    """Route middleware: it runs after routing, since it needs the route's rules."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def idempotent(scope: Scope, receive: Receive, send: Send, key: bytes) -> None:
            reason = refusal(scope["route_handler"])
            if reason is not None:
                raise Problem(400, f"{FIELD} is not accepted here: {reason}", _error(reason))
            if not 0 < len(key) <= MAX_KEY_LENGTH:
                message = f"{FIELD} must be 1 to {MAX_KEY_LENGTH} characters"
                raise Problem(400, message, _error(message))
            request: Request[Any, Any, Any] = Request(scope, receive, send)
            principal = await resolver.authorize(request)
            body = await request.body()  # bounded by request_max_body_size, kept for the route
            fingerprint = fingerprint_of(request.method, scope["path"], scope["query_string"], body)
            slot = slot_of(namespace, principal, key)
            claimed = await redis.set(
                slot, msgspec.json.encode(Stored(fingerprint)), nx=True, ex=IN_FLIGHT_SECONDS
            )
            if not claimed:
                await _answer_repeat(redis, slot, fingerprint, send)
                return
            await _run_and_remember(app, scope, receive, send, redis, slot, fingerprint)

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            key = dict(scope["headers"]).get(HEADER)
            if scope["type"] != ScopeType.HTTP or scope["method"] != "POST" or key is None:
                await app(scope, receive, send)
                return
            try:
                await idempotent(scope, receive, send, key)
            except HTTPException as problem:
                # Answered here, inside the correlation middleware, as the route's own
                # problems are (the route's are handled before they reach this far).
                request: Request[Any, Any, Any] = Request(scope, receive, send)
                response = problem_handler(request, problem)
                await response.to_asgi_response(app=None, request=request)(scope, receive, send)

        return middleware

    return factory


def _error(message: str) -> list[dict[str, str]]:
    return [{"field": FIELD, "message": message}]


async def _answer_repeat(redis: Redis, slot: str, fingerprint: str, send: Send) -> None:
    raw = await redis.get(slot)
    stored = msgspec.json.decode(raw, type=Stored) if raw else None
    if stored is None or stored.fingerprint != fingerprint:
        message = "this Idempotency-Key was used for a different request"
        raise Problem(422, message, _error(message))
    if stored.status == 0:
        message = "a request with this Idempotency-Key is still running"
        raise Problem(409, message, _error(message))
    headers = [
        (b"content-type", stored.content_type.encode()),
        (b"content-length", str(len(stored.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


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
