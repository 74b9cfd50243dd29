"""What a signed-in user does with their own credentials: sessions and password."""

from __future__ import annotations

from datetime import UTC, datetime

from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import (
    USER,
    ChangeEmail,
    ChangePassword,
    Done,
    EmailChanged,
    ListSessions,
    LoggedIn,
    LogOut,
    RevokeSession,
    SessionList,
    SessionView,
    UserEmailChanged,
    UserView,
)
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger

from phoenix_auth.current_password import confirm_current_password
from phoenix_auth.domain import EMAIL, MAX_PASSWORD, MIN_PASSWORD
from phoenix_auth.handlers import AuthDeps, member_of, new_session, store_password

log = get_logger(__name__)


async def log_out(cmd: LogOut, deps: AuthDeps) -> Done:
    record = await deps.sessions.end(cmd.session_token)
    if record is not None:
        await deps.revoked(record.user_id)
        log.info("user.logged_out", user_id=record.user_id)
    return Done()


async def list_sessions(cmd: ListSessions, deps: AuthDeps) -> SessionList:
    sessions = await deps.sessions.of_user(cmd.user_id)
    items = [
        SessionView(
            id=session_id,
            created_at=datetime.fromtimestamp(record.created_at, UTC),
            last_used_at=datetime.fromtimestamp(record.last_used_at or record.created_at, UTC),
            client_address=record.client_address,
            current=session_id == cmd.current_session_id,
        )
        for session_id, record in sessions
    ]
    return SessionList(items=sorted(items, key=lambda s: s.created_at))


async def revoke_session(cmd: RevokeSession, deps: AuthDeps) -> Done | Rejected:
    if not await deps.sessions.revoke(cmd.user_id, cmd.session_id):
        return Rejected(code="not_found", message="session not found")
    await deps.revoked(cmd.user_id)
    return Done()


async def change_password(cmd: ChangePassword, deps: AuthDeps) -> LoggedIn | Rejected:
    if not MIN_PASSWORD <= len(cmd.new_password) <= MAX_PASSWORD:
        return Rejected(
            code="invalid",
            field="new_password",
            message=f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters",
        )
    if (
        refusal := await confirm_current_password(deps, cmd.user_id, cmd.current_password)
    ) is not None:
        return refusal
    await store_password(
        deps,
        cmd.user_id,
        cmd.organization_id,
        cmd.new_password,
        rehash=False,
        correlation_id=cmd.correlation_id,
    )
    # Whoever knew the old password may hold a session: every one of them ends.
    ended = await deps.sessions.end_all(cmd.user_id)
    await deps.revoked(cmd.user_id)
    log.info("user.password_changed", user_id=cmd.user_id, sessions_ended=ended)
    member = await member_of(deps, cmd.user_id, cmd.organization_id)
    assert member is not None
    return await new_session(deps, member[0], cmd.organization_id, cmd.client_address)


async def change_email(cmd: ChangeEmail, deps: AuthDeps) -> EmailChanged | Rejected:
    email = cmd.email.strip()
    if not EMAIL.fullmatch(email):
        return Rejected(code="invalid", field="email", message="not an email address")
    if (
        refusal := await confirm_current_password(deps, cmd.user_id, cmd.current_password)
    ) is not None:
        return refusal
    events, sequence = await deps.store.load(USER, cmd.user_id)
    event = UserEmailChanged(
        event_id=uuid7(),
        aggregate_id=cmd.user_id,
        aggregate_version=len(events) + 1,
        occurred_at=datetime.now(UTC),
        organization_id=cmd.organization_id,
        correlation_id=cmd.correlation_id,
        email=email,
    )
    await deps.projector.wait_for(await deps.store.append([event], sequence))
    await deps.revoked(cmd.user_id)  # cached principals carry the old address
    log.info("user.email_changed", user_id=cmd.user_id)
    member = await member_of(deps, cmd.user_id, cmd.organization_id)
    assert member is not None
    return EmailChanged(user=UserView(id=cmd.user_id, username=member[0].username, email=email))
