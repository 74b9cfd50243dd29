"""The auth service's PostgreSQL projection of identities."""

from __future__ import annotations

import msgspec
from phoenix_contracts.base import Event
from phoenix_contracts.identity import (
    ApiKeyCreated,
    ApiKeyRevoked,
    MemberAdded,
    OrganizationCreated,
    UserEmailChanged,
    UserPasswordChanged,
    UserSignedUp,
)
from phoenix_contracts.organizations import (
    InvitationAccepted,
    InvitationCreated,
    InvitationRevoked,
    MemberRemoved,
    MemberRoleChanged,
    OrganizationRenamed,
)
from phoenix_contracts.twofactor import (
    UserRecoveryCodeUsed,
    UserTwoFactorDisabled,
    UserTwoFactorEnabled,
)
from phoenix_platform.rebuild import ProjectionSpec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from phoenix_auth.domain import username_key
from phoenix_auth.twofactor_projection import project_two_factor


class IdentityProjection:
    name = "auth-identity"

    async def apply(self, conn: AsyncConnection, event: Event, sequence: int) -> None:
        # Inserts are idempotent (on conflict do nothing): replaying is harmless.
        match event:
            case UserSignedUp():
                await conn.execute(
                    text(
                        "insert into users (id, username, username_key, email, password_hash,"
                        " created_at) values (:id, :u, :k, :e, :h, :t) on conflict do nothing"
                    ),
                    {
                        "id": event.aggregate_id,
                        "u": event.username,
                        "k": username_key(event.username),
                        "e": event.email,
                        "h": event.password_hash,
                        "t": event.occurred_at,
                    },
                )
            case OrganizationCreated():
                await conn.execute(
                    text(
                        "insert into organizations (id, name, owner_user_id, personal, created_at)"
                        " values (:id, :n, :o, :p, :t) on conflict do nothing"
                    ),
                    {
                        "id": event.aggregate_id,
                        "n": event.name,
                        "o": event.owner_user_id,
                        "p": event.personal,
                        "t": event.occurred_at,
                    },
                )
            case MemberAdded() | MemberRoleChanged():
                await conn.execute(
                    text(
                        "insert into memberships (organization_id, user_id, role)"
                        " values (:o, :u, :r) on conflict (organization_id, user_id)"
                        " do update set role = excluded.role"
                    ),
                    {"o": event.aggregate_id, "u": event.user_id, "r": event.role},
                )
            case UserEmailChanged():
                await conn.execute(
                    text("update users set email = :e where id = :id"),
                    {"e": event.email, "id": event.aggregate_id},
                )
            case UserPasswordChanged():
                await conn.execute(
                    text("update users set password_hash = :h where id = :id"),
                    {"h": event.password_hash, "id": event.aggregate_id},
                )
            case ApiKeyCreated():
                await conn.execute(
                    text(
                        "insert into api_keys (id, organization_id, user_id, name, prefix, digest,"
                        " scopes, expires_at, created_at) values (:id, :org, :u, :n, :p, :d,"
                        " cast(:s as jsonb), :e, :t) on conflict do nothing"
                    ),
                    {
                        "id": event.aggregate_id,
                        "org": event.organization_id,
                        "u": event.user_id,
                        "n": event.name,
                        "p": event.prefix,
                        "d": event.digest,
                        "s": msgspec.json.encode(event.scopes).decode(),
                        "e": event.expires_at,
                        "t": event.occurred_at,
                    },
                )
            case ApiKeyRevoked():
                await conn.execute(
                    text(
                        "update api_keys set revoked_at = :t where id = :id and revoked_at is null"
                    ),
                    {"t": event.occurred_at, "id": event.aggregate_id},
                )
            case MemberRemoved():
                await conn.execute(
                    text("delete from memberships where organization_id = :o and user_id = :u"),
                    {"o": event.aggregate_id, "u": event.user_id},
                )
            case OrganizationRenamed():
                await conn.execute(
                    text("update organizations set name = :n where id = :id"),
                    {"n": event.name, "id": event.aggregate_id},
                )
            case InvitationCreated():
                await conn.execute(
                    text(
                        "insert into invitations (id, organization_id, email, role, digest,"
                        " expires_at, invited_by, created_at) values (:id, :o, :e, :r, :d, :x,"
                        " :by, :t) on conflict do nothing"
                    ),
                    {
                        "id": event.invitation_id,
                        "o": event.aggregate_id,
                        "e": event.email,
                        "r": event.role,
                        "d": event.digest,
                        "x": event.expires_at,
                        "by": event.by_user_id,
                        "t": event.occurred_at,
                    },
                )
            case InvitationAccepted() | InvitationRevoked():
                state = "accepted" if isinstance(event, InvitationAccepted) else "revoked"
                await conn.execute(
                    text("update invitations set state = :s where id = :id"),
                    {"s": state, "id": event.invitation_id},
                )
            case UserTwoFactorEnabled() | UserTwoFactorDisabled() | UserRecoveryCodeUsed():
                await project_two_factor(conn, event)
            case _:
                pass


# What `phoenix projections` needs to rebuild this read model from the log.
SPEC = ProjectionSpec(
    name=IdentityProjection.name,
    schema="auth",
    migrations="phoenix_auth.migrations",
    tables=(
        "users",
        "organizations",
        "memberships",
        "api_keys",
        "invitations",
        "two_factor",
        "recovery_codes",
    ),
    projection=IdentityProjection,
)
