"""Signup, login and the caller's own account."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.datastructures import Cookie
from nats.aio.client import Client
from phoenix_contracts.identity import (
    Done,
    LoggedIn,
    LogIn,
    LogOut,
    SignedUp,
    SignUp,
    UserView,
)
from phoenix_contracts.subjects import Subjects
from phoenix_platform.logging import current_correlation

from phoenix_gateway.api.clients import TrustedProxies, client_address
from phoenix_gateway.api.commands import T, call
from phoenix_gateway.api.principal import SESSION_COOKIE, token_of


class SignupRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=64)]
    email: Annotated[str, msgspec.Meta(max_length=320)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    # Joins the inviting organization; works even while signup is closed.
    invitation_token: Annotated[str, msgspec.Meta(max_length=200)] = ""


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=64)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    # With two-factor login on: a code from the authenticator, or one recovery code.
    totp_code: Annotated[str, msgspec.Meta(max_length=64)] = ""
    recovery_code: Annotated[str, msgspec.Meta(max_length=64)] = ""


class User(msgspec.Struct):
    id: str
    username: str
    email: str


class Session(msgspec.Struct):
    session_token: str
    user: User
    organization_id: str
    expires_in: int


def _user(view: UserView) -> User:
    return User(id=view.id, username=view.username, email=view.email)


async def ask(nc: Client, subjects: Subjects, message: Any, kind: type[T]) -> T:
    """A request to the auth service (``message.verb`` names the subject)."""
    return await call(
        nc, subjects.auth(message.verb), message, kind, timeout=10.0, owner="authentication"
    )


class AuthController(Controller):
    path = "/api/v1/auth"

    @post("/signup", status_code=201)
    async def signup(self, data: SignupRequest, nats: Client, subjects: Subjects) -> User:
        reply = await ask(
            nats,
            subjects,
            SignUp(
                username=data.username,
                email=data.email,
                password=data.password,
                invitation_token=data.invitation_token,
                correlation_id=current_correlation(),
            ),
            SignedUp,
        )
        return _user(reply.user)

    @post("/login", status_code=200)
    async def login(
        self,
        data: LoginRequest,
        request: Request,  # type: ignore[type-arg]
        nats: Client,
        subjects: Subjects,
        cookie_secure: bool,
        trusted_proxies: TrustedProxies,
    ) -> Response[Session]:
        address = client_address(request, trusted_proxies)
        reply = await ask(
            nats,
            subjects,
            LogIn(
                username=data.username,
                password=data.password,
                client_address=address,
                totp_code=data.totp_code,
                recovery_code=data.recovery_code,
            ),
            LoggedIn,
        )
        return session_response(reply, cookie_secure)

    @post("/logout", status_code=204)
    async def logout(self, request: Request, nats: Client, subjects: Subjects) -> Response[None]:  # type: ignore[type-arg]
        token = token_of(request)
        if token and not token.startswith("phx_"):
            await ask(nats, subjects, LogOut(session_token=token), Done)
        return Response(
            None,
            status_code=204,
            cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")],
        )


def session_response(reply: LoggedIn, cookie_secure: bool) -> Response[Session]:
    """A new session as JSON and as an HttpOnly cookie."""
    session = Session(
        session_token=reply.session_token,
        user=_user(reply.user),
        organization_id=reply.organization_id,
        expires_in=reply.expires_in,
    )
    cookie = Cookie(
        key=SESSION_COOKIE,
        value=reply.session_token,
        httponly=True,
        samesite="lax",
        secure=cookie_secure,
        max_age=reply.expires_in,
        path="/",
    )
    return Response(session, cookies=[cookie])
