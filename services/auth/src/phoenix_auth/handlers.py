"""Request handlers of the auth service: thin, dependencies passed in."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import (
    Authenticate,
    LoggedIn,
    LogIn,
    Principal,
    SignedUp,
    SignUp,
    UserView,
)
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.projection import Projector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from phoenix_auth.domain import NewIds, SignupContext, decide_signup, username_key, validate_signup
from phoenix_auth.passwords import hash_password, verify_password
from phoenix_auth.sessions import SessionRecord, SessionStore

log = get_logger(__name__)
BAD_CREDENTIALS = Rejected(code="unauthorized", message="invalid username or password")


@dataclass(frozen=True)
class AuthDeps:
    engine: AsyncEngine
    store: EventStore
    projector: Projector
    sessions: SessionStore
    signup_mode: str


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
    async with deps.engine.connect() as conn:
        user = (
            await conn.execute(
                text(
                    "select id, username, email, password_hash from users where username_key = :k"
                ),
                {"k": username_key(cmd.username)},
            )
        ).one_or_none()
        if not await verify_password(user.password_hash if user else None, cmd.password):
            log.info("user.login_failed")
            return BAD_CREDENTIALS
        assert user is not None
        organization_id = await _home_organization(conn, str(user.id))
    token = await deps.sessions.create(
        SessionRecord(user_id=str(user.id), organization_id=organization_id, created_at=time.time())
    )
    log.info("user.logged_in", user_id=str(user.id))
    return LoggedIn(
        session_token=token,
        user=UserView(id=str(user.id), username=user.username, email=user.email),
        organization_id=organization_id,
        expires_in=deps.sessions.idle_seconds,
    )


async def authenticate(cmd: Authenticate, deps: AuthDeps) -> Principal | Rejected:
    record = await deps.sessions.resolve(cmd.session_token)
    if record is None:
        return Rejected(code="unauthorized", message="session expired or unknown")
    async with deps.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "select u.id, u.username, u.email, m.role from users u join memberships m"
                    " on m.user_id = u.id and m.organization_id = :o where u.id = :u"
                ),
                {"u": record.user_id, "o": record.organization_id},
            )
        ).one_or_none()
    if row is None:
        return Rejected(code="unauthorized", message="session no longer valid")
    return Principal(
        user=UserView(id=str(row.id), username=row.username, email=row.email),
        organization_id=record.organization_id,
        role=row.role,
    )


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
