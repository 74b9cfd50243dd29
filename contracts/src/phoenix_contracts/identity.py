"""Identity family: users, organizations and sessions (owned by the auth service)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

import msgspec

from phoenix_contracts.base import Event, Message

USER = "user"
ORGANIZATION = "organization"
API_KEY = "apikey"

Role = Literal["owner", "admin", "member", "viewer"]
Scope = Literal["read", "write", "admin"]


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


class UserPasswordChanged(Event, frozen=True, kw_only=True, tag="user.password_changed"):
    """A new argon2id hash: the user changed it, or login rehashed it with current parameters."""

    aggregate: ClassVar[str] = USER
    password_hash: str
    rehash: bool = False


class UserEmailChanged(Event, frozen=True, kw_only=True, tag="user.email_changed"):
    aggregate: ClassVar[str] = USER
    email: str


class ApiKeyCreated(Event, frozen=True, kw_only=True, tag="apikey.created"):
    """Only a lookup prefix and a digest of the key are kept: the key itself is shown once."""

    aggregate: ClassVar[str] = API_KEY
    user_id: str
    name: str
    prefix: str
    digest: str
    scopes: list[Scope]
    expires_at: datetime | None = None


class ApiKeyRevoked(Event, frozen=True, kw_only=True, tag="apikey.revoked"):
    aggregate: ClassVar[str] = API_KEY
    by_user_id: str


IdentityEvent = (
    UserSignedUp
    | OrganizationCreated
    | MemberAdded
    | UserPasswordChanged
    | UserEmailChanged
    | ApiKeyCreated
    | ApiKeyRevoked
)


# --- requests to the auth service (phx.auth.<verb>) -------------------------


class SignUp(Message, frozen=True, kw_only=True, tag="sign_up"):
    verb: ClassVar[str] = "signup"
    username: str
    email: str
    password: str
    # With an invitation a user may sign up even when signup is closed, and
    # joins the inviting organization at once.
    invitation_token: str = ""
    correlation_id: str = ""


class LogIn(Message, frozen=True, kw_only=True, tag="log_in"):
    verb: ClassVar[str] = "login"
    username: str
    password: str
    client_address: str = ""
    # Second factor, when the user has two-factor login on (one of the two).
    totp_code: str = ""
    recovery_code: str = ""


class Authenticate(Message, frozen=True, kw_only=True, tag="authenticate"):
    """Resolve a session token or API key to its principal in one organization:
    ``organization_id`` if given (the caller must be a member), else the session's."""

    verb: ClassVar[str] = "authenticate"
    session_token: str
    organization_id: str = ""


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
    scopes: list[Scope] = msgspec.field(default_factory=lambda: ["read", "write", "admin"])
    session_id: str = ""  # public id of the session (empty for an API key)
    api_key_id: str = ""


# --- requests made on behalf of an authenticated principal -------------------


class LogOut(Message, frozen=True, kw_only=True, tag="log_out"):
    verb: ClassVar[str] = "logout"
    session_token: str


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    created_at: datetime
    last_used_at: datetime
    client_address: str
    current: bool = False


class ListSessions(Message, frozen=True, kw_only=True, tag="list_sessions"):
    verb: ClassVar[str] = "sessions"
    user_id: str
    current_session_id: str = ""


class SessionList(Message, frozen=True, kw_only=True, tag="session_list"):
    items: list[SessionView]


class RevokeSession(Message, frozen=True, kw_only=True, tag="revoke_session"):
    verb: ClassVar[str] = "revoke_session"
    user_id: str
    session_id: str


class ChangePassword(Message, frozen=True, kw_only=True, tag="change_password"):
    """Every session of the user ends; the answer is a fresh one."""

    verb: ClassVar[str] = "change_password"
    user_id: str
    organization_id: str
    current_password: str
    new_password: str
    client_address: str = ""
    correlation_id: str = ""


class ChangeEmail(Message, frozen=True, kw_only=True, tag="change_email"):
    """Needs the current password: the address receives invitations and alerts."""

    verb: ClassVar[str] = "change_email"
    user_id: str
    organization_id: str
    email: str
    current_password: str
    correlation_id: str = ""


class EmailChanged(Message, frozen=True, kw_only=True, tag="email_changed"):
    user: UserView


class CreateApiKey(Message, frozen=True, kw_only=True, tag="create_api_key"):
    verb: ClassVar[str] = "create_api_key"
    user_id: str
    organization_id: str
    name: str
    scopes: list[Scope]
    expires_at: datetime | None = None
    correlation_id: str = ""


class ApiKeyView(Message, frozen=True, kw_only=True, tag="api_key"):
    id: str
    name: str
    prefix: str
    scopes: list[Scope]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None = None
    key: str | None = None  # only in the answer to its creation


class ListApiKeys(Message, frozen=True, kw_only=True, tag="list_api_keys"):
    verb: ClassVar[str] = "api_keys"
    user_id: str
    organization_id: str


class ApiKeyList(Message, frozen=True, kw_only=True, tag="api_key_list"):
    items: list[ApiKeyView]


class RevokeApiKey(Message, frozen=True, kw_only=True, tag="revoke_api_key"):
    verb: ClassVar[str] = "revoke_api_key"
    user_id: str
    organization_id: str
    api_key_id: str
    correlation_id: str = ""


class Done(Message, frozen=True, kw_only=True, tag="done"):
    """A request that changed something and has nothing else to say."""


# Published (core NATS, ``<ns>.auth.revoked``) when credentials end, so every
# gateway drops what it cached at once instead of after its cache window.
class CredentialsRevoked(Message, frozen=True, kw_only=True, tag="credentials_revoked"):
    user_id: str
