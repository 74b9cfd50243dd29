"""Pure identity rules: what a signup may be and which events it produces."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.identity import MemberAdded, OrganizationCreated, SignUp, UserSignedUp

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,31}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 of a megabyte-long password is a cheap denial of service


@dataclass(frozen=True)
class SignupContext:
    mode: str  # "open" | "first-user"
    user_count: int
    username_taken: bool
    # The address a valid invitation was sent to; such a signup joins the
    # inviting organization instead of getting one of its own.
    invited_email: str | None = None


@dataclass(frozen=True)
class NewIds:
    user_id: str
    organization_id: str
    event_ids: tuple[str, str, str]


def username_key(username: str) -> str:
    """Usernames are unique regardless of case."""
    return username.casefold()


def validate_signup(cmd: SignUp) -> Rejected | None:
    if not USERNAME.fullmatch(cmd.username):
        return Rejected(
            code="invalid",
            field="username",
            message="3-32 letters, digits, '_', '.' or '-', starting with a letter or digit",
        )
    if not EMAIL.fullmatch(cmd.email):
        return Rejected(code="invalid", field="email", message="not an email address")
    if not MIN_PASSWORD <= len(cmd.password) <= MAX_PASSWORD:
        return Rejected(
            code="invalid",
            field="password",
            message=f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters",
        )
    return None


def decide_signup(
    ctx: SignupContext, cmd: SignUp, password_hash: str, ids: NewIds, now: datetime
) -> list[Event] | Rejected:
    if (problem := validate_signup(cmd)) is not None:
        return problem
    invited = ctx.invited_email is not None
    if ctx.mode == "first-user" and ctx.user_count > 0 and not invited:
        return Rejected(code="forbidden", message="signup is closed: new users join by invitation")
    if invited and (ctx.invited_email or "").casefold() != cmd.email.casefold():
        return Rejected(
            code="invalid", field="email", message="use the address the invitation was sent to"
        )
    if ctx.username_taken:
        return Rejected(code="conflict", field="username", message="username is taken")
    user_event, org_event, member_event = ids.event_ids
    signed_up = UserSignedUp(
        event_id=user_event,
        aggregate_id=ids.user_id,
        aggregate_version=1,
        username=cmd.username,
        email=cmd.email,
        password_hash=password_hash,
        correlation_id=cmd.correlation_id,
        occurred_at=now,
        organization_id=ids.organization_id,
    )
    if invited:
        return [signed_up]
    return [
        signed_up,
        OrganizationCreated(
            event_id=org_event,
            aggregate_id=ids.organization_id,
            aggregate_version=1,
            name=f"{cmd.username}'s organization",
            owner_user_id=ids.user_id,
            personal=True,
            correlation_id=cmd.correlation_id,
            occurred_at=now,
            organization_id=ids.organization_id,
        ),
        MemberAdded(
            event_id=member_event,
            aggregate_id=ids.organization_id,
            aggregate_version=2,
            user_id=ids.user_id,
            role="owner",
            correlation_id=cmd.correlation_id,
            occurred_at=now,
            organization_id=ids.organization_id,
        ),
    ]
