"""Request handlers of the auth service: thin, dependencies passed in."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from phoenix_contracts.base import Accepted, Rejected
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
from phoenix_platform.commands import execute
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.projection import Projector
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from phoenix_auth import apikeys, organization, twofactor
from phoenix_auth.domain import NewIds, SignupContext, decide_signup, username_key, validate_signup
from phoenix_auth.passwords import hash_password, needs_rehash, verify_password
from phoenix_auth.sessions import SessionRecord, SessionStore, public_id
from phoenix_auth.throttle import LoginThrottle

log = get_logger(__name__)
BAD_CREDENTIALS = Rejected(code="unauthorized", message="invalid username or password")
NOT_A_MEMBER = Rejected(code="forbidden", message="you are not a member of that organization")


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
    invitation = await pending_invitation(deps, cmd.invitation_token)
    if cmd.invitation_token and invitation is None:
        return organization.INVALID_INVITATION
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
            mode=deps.signup_mode,
            user_count=row.users,
            username_taken=row.taken > 0,
            invited_email=invitation[1] if invitation else None,
        )
        ids = NewIds(
            user_id=uuid7(),
            organization_id=invitation[0] if invitation else uuid7(),
            event_ids=(uuid7(), uuid7(), uuid7()),
        )
        decision = decide_signup(
            ctx, cmd, await hash_password(cmd.password), ids, datetime.now(UTC)
        )
        if isinstance(decision, Rejected):
            return decision
        user_event, *org_events = decision
        sequence = await deps.store.append([user_event], 0)
        if org_events:
            sequence = await deps.store.append(org_events, 0)
        await deps.projector.wait_for(sequence)
    user = UserView(id=ids.user_id, username=cmd.username, email=cmd.email)
    if invitation:
        joined = await join_by_invitation(deps, user, cmd.invitation_token, cmd.correlation_id)
        if isinstance(joined, Rejected):
            # Revoked between our check and now: the account stays, without a team.
            log.warning("user.invitation_lost", user_id=ids.user_id, reason=joined.message)
    log.info("user.signed_up", user_id=ids.user_id, invited=invitation is not None)
    return SignedUp(user=user, organization_id=ids.organization_id)


async def pending_invitation(deps: AuthDeps, token: str) -> tuple[str, str] | None:
    """(organization id, invited email) of a still-valid invitation token."""
    if not token.startswith(organization.INVITATION_MARK):
        return None
    async with deps.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "select organization_id, email from invitations where digest = :d"
                    " and state = 'pending' and expires_at > now()"
                ),
                {"d": organization.invitation_digest(token)},
            )
        ).one_or_none()
    return (str(row.organization_id), row.email) if row else None


async def join_by_invitation(
    deps: AuthDeps, user: UserView, token: str, correlation_id: str
) -> Accepted | Rejected:
    invitation = await pending_invitation(deps, token)
    if invitation is None:
        return organization.INVALID_INVITATION
    ctx = organization.Context(
        organization_id=invitation[0],
        actor_user_id=user.id,
        now=datetime.now(UTC),
        event_ids=(uuid7(), uuid7()),
        correlation_id=correlation_id,
    )
    digest = organization.invitation_digest(token)
    reply = await execute(
        deps.store,
        organization.ORGANIZATIONS,
        invitation[0],
        lambda state: organization.decide_accept(state, digest, user.email, ctx),
    )
    if isinstance(reply, Accepted):
        await deps.projector.wait_for(reply.sequence)
        await deps.revoked(user.id)  # cached principals learn the new membership
    return reply


async def log_in(cmd: LogIn, deps: AuthDeps) -> LoggedIn | Rejected:
    account = username_key(cmd.username)
    if (malformed := twofactor.validate_login_codes(cmd)) is not None:
        return malformed
    # The throttle counts this attempt before the password is checked, in one
    # step, so concurrent guesses cannot all slip in under the limit together.
    checked = await deps.throttle.guarded(
        account, cmd.client_address, lambda: _check_credentials(cmd, account, deps)
    )
    if isinstance(checked, Rejected):
        if checked.code == "throttled":
            log.warning("user.login_throttled", retry_after=checked.retry_after)
        return checked
    user, organization_id, password_hash = checked
    if organization_id is None:
        organization_id = await _new_personal_organization(deps, user.id, user.username)
    if needs_rehash(password_hash):
        await store_password(deps, user.id, organization_id, cmd.password, rehash=True)
    return await new_session(deps, user, organization_id, cmd.client_address)


async def _check_credentials(
    cmd: LogIn, account: str, deps: AuthDeps
) -> tuple[UserView, str | None, str] | Rejected:
    """(user, home organization, stored hash) when the password and second factor are right."""
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
            log.info("user.login_failed")
            return BAD_CREDENTIALS
        assert user is not None
        organization_id = await _home_organization(conn, str(user.id))
    # A wrong code is a failed login like a wrong password (codes are guessable too);
    # a missing one is just the first half of the exchange (throttle.FAILURES).
    if (refusal := await twofactor.check_second_factor(deps, str(user.id), cmd)) is not None:
        if refusal.code == twofactor.WRONG_CODE.code:
            log.info("user.login_failed", reason="second_factor")
        return refusal
    view = UserView(id=str(user.id), username=user.username, email=user.email)
    return view, organization_id, user.password_hash


async def authenticate(cmd: Authenticate, deps: AuthDeps) -> Principal | Rejected:
    if cmd.session_token.startswith(apikeys.MARK):
        return await _authenticate_key(cmd.session_token, cmd.organization_id, deps)
    record = await deps.sessions.resolve(cmd.session_token)
    if record is None:
        return Rejected(code="unauthorized", message="session expired or unknown")
    organization_id = cmd.organization_id or record.organization_id
    member = await member_of(deps, record.user_id, organization_id)
    if member is None and cmd.organization_id:
        return NOT_A_MEMBER
    if member is None:
        # Removed from the organization the session started in: fall back to another.
        async with deps.engine.connect() as conn:
            home = await _home_organization(conn, record.user_id)
        if home is None:
            return Rejected(code="forbidden", message="you belong to no organization")
        organization_id = home
        member = await member_of(deps, record.user_id, organization_id)
        if member is None:
            return Rejected(code="unauthorized", message="session no longer valid")
    user, role = member
    return Principal(
        user=user,
        organization_id=organization_id,
        role=role,
        scopes=scopes_of_role(role),
        session_id=public_id(cmd.session_token),
    )


async def _authenticate_key(key: str, organization_id: str, deps: AuthDeps) -> Principal | Rejected:
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
    if organization_id and organization_id != str(row.organization_id):
        return Rejected(code="forbidden", message="this API key belongs to another organization")
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


async def _home_organization(conn: AsyncConnection, user_id: str) -> str | None:
    """Where a session starts: the oldest organization the user owns, else the oldest."""
    org = (
        await conn.execute(
            text(
                "select organization_id from memberships where user_id = :u"
                " order by (role = 'owner') desc, organization_id limit 1"
            ),
            {"u": user_id},
        )
    ).scalar_one_or_none()
    return str(org) if org else None


async def _new_personal_organization(deps: AuthDeps, user_id: str, username: str) -> str:
    """A user left with no organization (removed from the last) gets a fresh one at login,
    so they can still sign in, accept invitations and work."""
    organization_id = uuid7()
    ctx = organization.Context(
        organization_id=organization_id,
        actor_user_id=user_id,
        now=datetime.now(UTC),
        event_ids=(uuid7(), uuid7()),
    )
    reply = await execute(
        deps.store,
        organization.ORGANIZATIONS,
        organization_id,
        lambda _: organization.decide_create(f"{username}'s organization", ctx, personal=True),
    )
    assert isinstance(reply, Accepted)  # a fresh id cannot conflict; the name is valid
    await deps.projector.wait_for(reply.sequence)
    return organization_id
