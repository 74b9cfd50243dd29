"""Request handlers of the auth service: thin, dependencies passed in."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import (
    USER,
    Authenticate,
    LoggedIn,
    LogIn,
    Principal,
    Role,
    Scope,
    SignedUp,
    SignUp,
    UserPasswordChanged,
    UserView,
)
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.projection import Projector
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from phoenix_auth import apikeys, twofactor
from phoenix_auth.domain import NewIds, SignupContext, decide_signup, username_key, validate_signup
from phoenix_auth.passwords import hash_password, needs_rehash, verify_password
from phoenix_auth.sessions import SessionRecord, SessionStore, public_id
from phoenix_auth.throttle import LoginThrottle

log = get_logger(__name__)
BAD_CREDENTIALS = Rejected(code="unauthorized", message="invalid username or password")


@dataclass(frozen=True)
class AuthDeps:
    engine: AsyncEngine
    store: EventStore
    projector: Projector
    sessions: SessionStore
    throttle: LoginThrottle
    redis: Redis
    namespace: str
    signup_mode: str
    revoked: Callable[[str], Awaitable[None]]  # tells every gateway to forget a user's credentials
    totp_key: bytes | None = None  # seals two-factor secrets; None: enrolment is refused


async def sign_up(cmd: SignUp, deps: AuthDeps) -> SignedUp | Rejected:
    if (problem := validate_signup(cmd)) is not None:
        return problem
    async with deps.engine.begin() as conn:
        # Signups are rare; serializing them makes "first user" and
        # "username taken" exact even with several auth replicas.
        await conn.execute(text("select pg_advisory_xact_lock(hashtext('phoenix-signup'))"))
        row = (
            await conn.execute(
                text(
                    "select count(*) as users,"
                    " count(*) filter (where username_key = :k) as taken from users"
                ),
                {"k": username_key(cmd.username)},
            )
        ).one()
        ctx = SignupContext(
            mode=deps.signup_mode, user_count=row.users, username_taken=row.taken > 0
        )
        ids = NewIds(
            user_id=uuid7(), organization_id=uuid7(), event_ids=(uuid7(), uuid7(), uuid7())
        )
        decision = decide_signup(
            ctx, cmd, await hash_password(cmd.password), ids, datetime.now(UTC)
        )
        if isinstance(decision, Rejected):
            return decision
        user_event, *org_events = decision
        await deps.store.append([user_event], 0)
        sequence = await deps.store.append(org_events, 0)
        await deps.projector.wait_for(sequence)
    log.info("user.signed_up", user_id=ids.user_id)
    return SignedUp(
        user=UserView(id=ids.user_id, username=cmd.username, email=cmd.email),
        organization_id=ids.organization_id,
    )


async def log_in(cmd: LogIn, deps: AuthDeps) -> LoggedIn | Rejected:
    account = username_key(cmd.username)
    if (malformed := twofactor.validate_login_codes(cmd)) is not None:
        return malformed
    if wait := await deps.throttle.retry_after(account, cmd.client_address):
        log.warning("user.login_throttled", retry_after=wait)
        return Rejected(
            code="throttled", message=f"too many failed logins; retry in {wait} s", retry_after=wait
        )
    async with deps.engine.connect() as conn:
        user = (
            await conn.execute(
                text(
                    "select id, username, email, password_hash from users where username_key = :k"
                ),
                {"k": account},
            )
        ).one_or_none()
        if not await verify_password(user.password_hash if user else None, cmd.password):
            await deps.throttle.failed(account, cmd.client_address)
            log.info("user.login_failed")
            return BAD_CREDENTIALS
        assert user is not None
        organization_id = await _home_organization(conn, str(user.id))
    if (refusal := await twofactor.check_second_factor(deps, str(user.id), cmd)) is not None:
        # A wrong code is a failed login like a wrong password (codes are guessable too);
        # a missing one is just the first half of the exchange.
        if refusal.code == twofactor.WRONG_CODE.code:
            await deps.throttle.failed(account, cmd.client_address)
            log.info("user.login_failed", reason="second_factor")
        return refusal
    await deps.throttle.succeeded(account)
    if needs_rehash(user.password_hash):
        await store_password(deps, str(user.id), organization_id, cmd.password, rehash=True)
    return await new_session(
        deps,
        UserView(id=str(user.id), username=user.username, email=user.email),
        organization_id,
        cmd.client_address,
    )


async def authenticate(cmd: Authenticate, deps: AuthDeps) -> Principal | Rejected:
    if cmd.session_token.startswith(apikeys.MARK):
        return await _authenticate_key(cmd.session_token, deps)
    record = await deps.sessions.resolve(cmd.session_token)
    if record is None:
        return Rejected(code="unauthorized", message="session expired or unknown")
    member = await member_of(deps, record.user_id, record.organization_id)
    if member is None:
        return Rejected(code="unauthorized", message="session no longer valid")
    user, role = member
    return Principal(
        user=user,
        organization_id=record.organization_id,
        role=role,
        scopes=scopes_of_role(role),
        session_id=public_id(cmd.session_token),
    )


async def _authenticate_key(key: str, deps: AuthDeps) -> Principal | Rejected:
    parsed = apikeys.parse(key)
    if parsed is None:
        return Rejected(code="unauthorized", message="not a valid API key")
    async with deps.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "select id, user_id, organization_id, digest, scopes, expires_at, revoked_at"
                    " from api_keys where prefix = :p"
                ),
                {"p": parsed.prefix},
            )
        ).one_or_none()
    now = datetime.now(UTC)
    if row is None or not apikeys.matches(row.digest, parsed) or row.revoked_at is not None:
        return Rejected(code="unauthorized", message="unknown or revoked API key")
    if row.expires_at is not None and row.expires_at <= now:
        return Rejected(code="unauthorized", message="the API key has expired")
    member = await member_of(deps, str(row.user_id), str(row.organization_id))
    if member is None:
        return Rejected(code="unauthorized", message="the key's owner has left the organization")
    user, role = member
    await deps.redis.set(f"{deps.namespace}:apikey-used:{row.id}", now.timestamp())
    # A key never grants more than its owner's role allows.
    scopes = [s for s in row.scopes if s in scopes_of_role(role)]
    return Principal(
        user=user,
        organization_id=str(row.organization_id),
        role=role,
        scopes=scopes,
        api_key_id=str(row.id),
    )


async def member_of(
    deps: AuthDeps, user_id: str, organization_id: str
) -> tuple[UserView, Role] | None:
    async with deps.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "select u.id, u.username, u.email, m.role from users u join memberships m"
                    " on m.user_id = u.id and m.organization_id = :o where u.id = :u"
                ),
                {"u": user_id, "o": organization_id},
            )
        ).one_or_none()
    if row is None:
        return None
    return UserView(id=str(row.id), username=row.username, email=row.email), row.role


async def new_session(
    deps: AuthDeps, user: UserView, organization_id: str, address: str
) -> LoggedIn:
    token = await deps.sessions.create(
        SessionRecord(
            user_id=user.id,
            organization_id=organization_id,
            created_at=time.time(),
            client_address=address,
        )
    )
    log.info("user.logged_in", user_id=user.id)
    return LoggedIn(
        session_token=token,
        user=user,
        organization_id=organization_id,
        expires_in=deps.sessions.idle_seconds,
    )


async def store_password(
    deps: AuthDeps,
    user_id: str,
    organization_id: str,
    password: str,
    *,
    rehash: bool,
    correlation_id: str = "",
) -> None:
    events, sequence = await deps.store.load(USER, user_id)
    event = UserPasswordChanged(
        event_id=uuid7(),
        aggregate_id=user_id,
        aggregate_version=len(events) + 1,
        occurred_at=datetime.now(UTC),
        organization_id=organization_id,
        correlation_id=correlation_id,
        password_hash=await hash_password(password),
        rehash=rehash,
    )
    await deps.projector.wait_for(await deps.store.append([event], sequence))


def scopes_of_role(role: str) -> list[Scope]:
    if role == "viewer":
        return ["read"]
    if role == "member":
        return ["read", "write"]
    return ["read", "write", "admin"]


async def _home_organization(conn: AsyncConnection, user_id: str) -> str:
    org = (
        await conn.execute(
            text(
                "select organization_id from memberships where user_id = :u"
                " order by (role = 'owner') desc, organization_id limit 1"
            ),
            {"u": user_id},
        )
    ).scalar_one()
    return str(org)
