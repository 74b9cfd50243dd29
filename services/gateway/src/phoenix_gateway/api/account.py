"""The caller's own account: who am I, my sessions, my password."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from nats.aio.client import Client
from phoenix_contracts.identity import (
    ChangeEmail,
    ChangePassword,
    Done,
    EmailChanged,
    ListSessions,
    LoggedIn,
    Principal,
    RevokeSession,
    SessionList,
)
from phoenix_contracts.subjects import Subjects
from phoenix_platform.logging import current_correlation

from phoenix_gateway.api.auth import Session, User, ask, session_response
from phoenix_gateway.api.clients import TrustedProxies, client_address
from phoenix_gateway.api.idempotency import CARRIES_CREDENTIAL
from phoenix_gateway.api.problems import Problem

Password = Annotated[str, msgspec.Meta(max_length=1024)]


class Me(msgspec.Struct):
    user: User
    organization_id: str
    role: str
    scopes: list[str]


class SessionInfo(msgspec.Struct):
    id: str
    created_at: datetime
    last_used_at: datetime
    client_address: str
    current: bool


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class ProfileChange(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    current_password: Password


class AccountController(Controller):
    path = "/api/v1/account"
    opt = {"account": True}  # a viewer manages their own account (principal.py)

    @get("/me")
    async def me(self, principal: Principal) -> Me:
        user = principal.user
        return Me(
            user=User(id=user.id, username=user.username, email=user.email),
            organization_id=principal.organization_id,
            role=principal.role,
            scopes=list(principal.scopes),
        )

    @patch("/me")
    async def update_me(
        self, data: ProfileChange, principal: Principal, nats: Client, subjects: Subjects
    ) -> Me:
        """Change the email address; the current password confirms it."""
        if principal.api_key_id:
            raise Problem(403, "the profile is changed with a session, not an API key")
        reply = await ask(
            nats,
            subjects,
            ChangeEmail(
                user_id=principal.user.id,
                organization_id=principal.organization_id,
                email=data.email,
                current_password=data.current_password,
                correlation_id=current_correlation(),
            ),
            EmailChanged,
        )
        user = reply.user
        return Me(
            user=User(id=user.id, username=user.username, email=user.email),
            organization_id=principal.organization_id,
            role=principal.role,
            scopes=list(principal.scopes),
        )

    @get("/sessions")
    async def sessions(
        self, principal: Principal, nats: Client, subjects: Subjects
    ) -> list[SessionInfo]:
        reply = await ask(
            nats,
            subjects,
            ListSessions(user_id=principal.user.id, current_session_id=principal.session_id),
            SessionList,
        )
        return [SessionInfo(**msgspec.structs.asdict(item)) for item in reply.items]

    @delete("/sessions/{session_id:str}", status_code=204)
    async def revoke(
        self, session_id: str, principal: Principal, nats: Client, subjects: Subjects
    ) -> None:
        if not session_id.isalnum() or len(session_id) > 64:
            raise Problem(404, "session not found")
        await ask(
            nats,
            subjects,
            RevokeSession(user_id=principal.user.id, session_id=session_id),
            Done,
        )

    @post("/change-password", status_code=200, opt={CARRIES_CREDENTIAL: True})
    async def change_password(
        self,
        data: PasswordChange,
        request: Request[Any, Any, Any],
        principal: Principal,
        nats: Client,
        subjects: Subjects,
        cookie_secure: bool,
        trusted_proxies: TrustedProxies,
    ) -> Response[Session]:
        """Every session ends, this one included; the answer carries a fresh one."""
        if principal.api_key_id:
            raise Problem(403, "a password is changed with a session, not an API key")
        reply = await ask(
            nats,
            subjects,
            ChangePassword(
                user_id=principal.user.id,
                organization_id=principal.organization_id,
                current_password=data.current_password,
                new_password=data.new_password,
                client_address=client_address(request, trusted_proxies),
                correlation_id=current_correlation(),
            ),
            LoggedIn,
        )
        return session_response(reply, cookie_secure)
