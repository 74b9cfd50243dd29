"""Identity family: users, organizations and sessions (owned by the auth service)."""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec

from phoenix_contracts.base import Event, Message

USER = "user"
ORGANIZATION = "organization"

Role = Literal["owner", "admin", "member", "viewer"]


class UserSignedUp(Event, frozen=True, kw_only=True, tag="user.signed_up"):
    """``password_hash`` is an argon2id hash, never a password."""

    aggregate: ClassVar[str] = USER
    username: str
    email: str
    password_hash: str


class OrganizationCreated(Event, frozen=True, kw_only=True, tag="organization.created"):
    aggregate: ClassVar[str] = ORGANIZATION
    name: str
    owner_user_id: str
    personal: bool = False


class MemberAdded(Event, frozen=True, kw_only=True, tag="organization.member_added"):
    aggregate: ClassVar[str] = ORGANIZATION
    user_id: str
    role: Role


IdentityEvent = UserSignedUp | OrganizationCreated | MemberAdded


# --- requests to the auth service (phx.auth.<verb>) -------------------------


class SignUp(Message, frozen=True, kw_only=True, tag="sign_up"):
    verb: ClassVar[str] = "signup"
    username: str
    email: str
    password: str
    correlation_id: str = ""


class LogIn(Message, frozen=True, kw_only=True, tag="log_in"):
    verb: ClassVar[str] = "login"
    username: str
    password: str
    client_address: str = ""


class Authenticate(Message, frozen=True, kw_only=True, tag="authenticate"):
    """Resolve a session token to its principal."""

    verb: ClassVar[str] = "authenticate"
    session_token: str


class UserView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    username: str
    email: str


class SignedUp(Message, frozen=True, kw_only=True, tag="signed_up"):
    user: UserView
    organization_id: str


class LoggedIn(Message, frozen=True, kw_only=True, tag="logged_in"):
    session_token: str
    user: UserView
    organization_id: str
    expires_in: int


class Principal(Message, frozen=True, kw_only=True, tag="principal"):
    user: UserView
    organization_id: str
    role: Role
