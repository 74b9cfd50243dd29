"""Wiring of the auth service: settings → logging → broker → routes → serve."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from phoenix_contracts.identity import (
    Authenticate,
    ChangeEmail,
    ChangePassword,
    CreateApiKey,
    CredentialsRevoked,
    ListApiKeys,
    ListSessions,
    LogIn,
    LogOut,
    RevokeApiKey,
    RevokeSession,
    SignUp,
)
from phoenix_contracts.organizations import (
    AcceptInvitation,
    ChangeMemberRole,
    CreateInvitation,
    CreateOrganization,
    ListInvitations,
    ListMembers,
    ListOrganizations,
    RemoveMember,
    RenameOrganization,
    RevokeInvitation,
)
from phoenix_contracts.twofactor import (
    ConfirmTwoFactor,
    DisableTwoFactor,
    GetTwoFactor,
    StartTwoFactor,
)
from phoenix_platform.database import create_engine, migrate
from phoenix_platform.logging import configure
from phoenix_platform.messaging.codec import encode
from phoenix_platform.messaging.requests import responder
from phoenix_platform.projection import Projector
from phoenix_platform.redis import create_redis
from phoenix_platform.runtime import Runtime, load_settings_or_exit, run
from phoenix_platform.settings import secrets_key_bytes

from phoenix_auth import account, handlers, keys, orgs, twofactor
from phoenix_auth.projection import IdentityProjection
from phoenix_auth.sessions import SessionStore
from phoenix_auth.settings import AuthSettings
from phoenix_auth.throttle import LoginThrottle

SERVICE = "auth"


async def serve(settings: AuthSettings) -> None:
    runtime = Runtime(SERVICE, settings)
    engine = create_engine(
        settings.database_url, "auth", statement_timeout=settings.db_statement_timeout
    )
    redis = create_redis(settings.redis_url)
    runtime.use_database(engine)
    runtime.use_redis(redis)
    await migrate(engine, "auth", "phoenix_auth.migrations")
    await runtime.connect()
    projector = Projector(
        runtime.js,
        runtime.subjects,
        engine,
        IdentityProjection(),
        subject=f"{settings.namespace}.evt.>",
        stall_after=settings.projection_stall_seconds,
    )
    nc = runtime.broker.connection

    async def revoked(user_id: str) -> None:
        await nc.publish(
            runtime.subjects.auth("revoked"), encode(CredentialsRevoked(user_id=user_id))
        )

    deps = handlers.AuthDeps(
        engine=engine,
        store=runtime.event_store,
        projector=projector,
        sessions=SessionStore(
            redis,
            settings.namespace,
            settings.session_idle_seconds,
            settings.session_absolute_seconds,
        ),
        throttle=LoginThrottle(
            redis,
            settings.namespace,
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            window=settings.login_throttle_window,
        ),
        redis=redis,
        namespace=settings.namespace,
        signup_mode=settings.signup_mode,
        revoked=revoked,
        totp_key=secrets_key_bytes(settings.secrets_key),
    )
    # Which request subject goes to which handler.
    routes: list[tuple[str, type, Callable[..., Awaitable[object]]]] = [
        (SignUp.verb, SignUp, handlers.sign_up),
        (LogIn.verb, LogIn, handlers.log_in),
        (Authenticate.verb, Authenticate, handlers.authenticate),
        (LogOut.verb, LogOut, account.log_out),
        (ListSessions.verb, ListSessions, account.list_sessions),
        (RevokeSession.verb, RevokeSession, account.revoke_session),
        (ChangePassword.verb, ChangePassword, account.change_password),
        (ChangeEmail.verb, ChangeEmail, account.change_email),
        (CreateApiKey.verb, CreateApiKey, keys.create_api_key),
        (ListApiKeys.verb, ListApiKeys, keys.list_api_keys),
        (RevokeApiKey.verb, RevokeApiKey, keys.revoke_api_key),
        (CreateOrganization.verb, CreateOrganization, orgs.create_organization),
        (ListOrganizations.verb, ListOrganizations, orgs.list_organizations),
        (RenameOrganization.verb, RenameOrganization, orgs.rename_organization),
        (ListMembers.verb, ListMembers, orgs.list_members),
        (ChangeMemberRole.verb, ChangeMemberRole, orgs.change_member_role),
        (RemoveMember.verb, RemoveMember, orgs.remove_member),
        (CreateInvitation.verb, CreateInvitation, orgs.create_invitation),
        (ListInvitations.verb, ListInvitations, orgs.list_invitations),
        (RevokeInvitation.verb, RevokeInvitation, orgs.revoke_invitation),
        (AcceptInvitation.verb, AcceptInvitation, orgs.accept_invitation),
        (StartTwoFactor.verb, StartTwoFactor, twofactor.start_two_factor),
        (ConfirmTwoFactor.verb, ConfirmTwoFactor, twofactor.confirm_two_factor),
        (DisableTwoFactor.verb, DisableTwoFactor, twofactor.disable_two_factor),
        (GetTwoFactor.verb, GetTwoFactor, twofactor.two_factor_status),
    ]
    for verb, kind, handler in routes:
        responder(
            runtime.broker,
            runtime.subjects.auth(verb),
            queue=SERVICE,
            kind=kind,
            handler=partial(handler, deps=deps),
        )
    runtime.background("identity-projection", projector.run)
    runtime.readiness("projection", projector.is_ready)
    runtime.detail("projection", projector.lag)
    await runtime.serve()


def main() -> None:
    settings = load_settings_or_exit(AuthSettings)
    configure(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run(lambda: serve(settings))
