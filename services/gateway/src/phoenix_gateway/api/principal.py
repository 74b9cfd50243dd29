"""Who is calling: a session token (Bearer header or cookie) resolved by the auth service.

Answers are cached for a few seconds so a busy client costs auth one request
per token per window. When auth or Redis cannot answer, requests fail closed
with 503: an outage never lets a request through unauthenticated.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import msgspec
from litestar import Request
from nats.aio.client import Client
from nats.aio.msg import Msg
from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import Authenticate, CredentialsRevoked, Principal
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.requests import Unavailable, request

from phoenix_gateway.api.problems import Problem

SESSION_COOKIE = "phoenix_session"
# Which of the caller's organizations a request acts in; without it, the one the
# session started in (or the API key's own).
ORGANIZATION_HEADER = "x-phoenix-organization"
CACHE_SECONDS = 5.0
CACHE_SIZE = 10_000


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class PrincipalResolver:
    nc: Client
    subjects: Subjects
    _cache: dict[str, tuple[float, Principal]] = field(default_factory=dict)

    async def listen_for_revocations(self) -> None:
        """Forget a user's cached credentials the moment auth ends any of them."""

        async def forget(msg: Msg) -> None:
            try:
                user_id = msgspec.json.decode(msg.data, type=CredentialsRevoked).user_id
            except msgspec.MsgspecError:
                self._cache.clear()  # unreadable: forget everyone rather than risk it
                return
            for token in [t for t, (_, p) in self._cache.items() if p.user.id == user_id]:
                self._cache.pop(token, None)

        await self.nc.subscribe(self.subjects.auth("revoked"), cb=forget)

    async def authorize(self, request: Request) -> Principal:  # type: ignore[type-arg]
        """The caller, if allowed this request: writes need the ``write`` scope."""
        principal = await self(request)
        if request.method in READ_METHODS or "write" in principal.scopes:
            return principal
        # A viewer still owns their account: password, sessions, keys, leaving
        # or joining organizations. Routes marked ``account`` check their own rules.
        if request.route_handler.opt.get("account") and not principal.api_key_id:
            return principal
        raise Problem(403, "this credential may only read")

    async def __call__(self, request: Request) -> Principal:  # type: ignore[type-arg]
        token = token_of(request)
        if not token:
            raise Problem(401, "authentication required: send a session token or cookie")
        organization_id = request.headers.get(ORGANIZATION_HEADER, "").strip()
        if not organization_id and request.route_handler.opt.get("organization_query"):
            organization_id = request.query_params.get("organization", "").strip()
        if organization_id and not _is_uuid(organization_id):
            raise Problem(
                400,
                f"{ORGANIZATION_HEADER} must be an organization id",
                [{"field": ORGANIZATION_HEADER, "message": "not a UUID"}],
            )
        key = f"{token}\0{organization_id}"
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            reply = await request_principal(self.nc, self.subjects, token, organization_id)
        except Unavailable:
            raise Problem(503, "authentication is unavailable; try again shortly") from None
        if isinstance(reply, Rejected):
            self._cache.pop(key, None)
            if reply.code == "unauthorized":
                raise Problem(401, reply.message)
            if reply.code == "forbidden":
                raise Problem(403, reply.message)
            raise Problem(503, "authentication is unavailable; try again shortly")
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + CACHE_SECONDS, reply)
        return reply


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def request_principal(
    nc: Client, subjects: Subjects, token: str, organization_id: str = ""
) -> Principal | Rejected:
    reply: Principal | Rejected = await request(
        nc,
        subjects.auth(Authenticate.verb),
        Authenticate(session_token=token, organization_id=organization_id),
        Principal | Rejected,
        timeout=3.0,
    )
    return reply


def token_of(request: Request) -> str | None:  # type: ignore[type-arg]
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE) or None
