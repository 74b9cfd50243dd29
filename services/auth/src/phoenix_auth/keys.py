"""API keys: created and revoked by their owner (or an admin), stored as prefix + digest."""

from __future__ import annotations

from datetime import UTC, datetime

from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import (
    API_KEY,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyRevoked,
    ApiKeyView,
    CreateApiKey,
    Done,
    ListApiKeys,
    RevokeApiKey,
)
from phoenix_contracts.moments import OutOfRange, bounded
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger
from sqlalchemy import text

from phoenix_auth import apikeys
from phoenix_auth.handlers import AuthDeps, member_of, scopes_of_role

log = get_logger(__name__)


async def create_api_key(cmd: CreateApiKey, deps: AuthDeps) -> ApiKeyView | Rejected:
    member = await member_of(deps, cmd.user_id, cmd.organization_id)
    if member is None:
        return Rejected(code="forbidden", message="not a member of this organization")
    allowed = scopes_of_role(member[1])
    if not cmd.scopes or any(scope not in allowed for scope in cmd.scopes):
        return Rejected(code="invalid", field="scopes", message=f"your role allows {allowed}")
    now = datetime.now(UTC)
    try:
        expires_at = None if cmd.expires_at is None else bounded("expires_at", cmd.expires_at)
    except OutOfRange as exc:  # stored in a timestamptz, read back by every authentication
        return Rejected(code="invalid", field=exc.field, message=str(exc))
    if expires_at is not None and expires_at <= now:
        return Rejected(code="invalid", field="expires_at", message="must be in the future")
    key, stored = apikeys.new_key()
    key_id = uuid7()
    event = ApiKeyCreated(
        event_id=uuid7(),
        aggregate_id=key_id,
        aggregate_version=1,
        occurred_at=now,
        organization_id=cmd.organization_id,
        correlation_id=cmd.correlation_id,
        user_id=cmd.user_id,
        name=cmd.name,
        prefix=stored.prefix,
        digest=stored.digest,
        scopes=sorted(set(cmd.scopes)),
        expires_at=expires_at,
    )
    await deps.projector.wait_for(await deps.store.append([event], 0))
    log.info("api_key.created", api_key_id=key_id, user_id=cmd.user_id)  # never the key
    return ApiKeyView(
        id=key_id,
        name=cmd.name,
        prefix=f"{apikeys.MARK}{stored.prefix}",
        scopes=event.scopes,
        expires_at=expires_at,
        created_at=now,
        key=key,
    )


async def revoke_api_key(cmd: RevokeApiKey, deps: AuthDeps) -> Done | Rejected:
    async with deps.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "select user_id, revoked_at from api_keys where id = cast(:id as uuid)"
                    " and organization_id = :o"
                ),
                {"id": cmd.api_key_id, "o": cmd.organization_id},
            )
        ).one_or_none()
    member = await member_of(deps, cmd.user_id, cmd.organization_id)
    is_admin = member is not None and "admin" in scopes_of_role(member[1])
    if row is None or (str(row.user_id) != cmd.user_id and not is_admin):
        return Rejected(code="not_found", message="API key not found")
    if row.revoked_at is None:
        events, sequence = await deps.store.load(API_KEY, cmd.api_key_id)
        event = ApiKeyRevoked(
            event_id=uuid7(),
            aggregate_id=cmd.api_key_id,
            aggregate_version=len(events) + 1,
            occurred_at=datetime.now(UTC),
            organization_id=cmd.organization_id,
            correlation_id=cmd.correlation_id,
            by_user_id=cmd.user_id,
        )
        await deps.projector.wait_for(await deps.store.append([event], sequence))
        await deps.revoked(str(row.user_id))
        log.info("api_key.revoked", api_key_id=cmd.api_key_id)
    return Done()


async def list_api_keys(cmd: ListApiKeys, deps: AuthDeps) -> ApiKeyList:
    """The caller's own live keys (revoked ones are gone for good)."""
    async with deps.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "select id, name, prefix, scopes, expires_at, created_at from api_keys"
                    " where user_id = :u and organization_id = :o and revoked_at is null"
                    " order by created_at"
                ),
                {"u": cmd.user_id, "o": cmd.organization_id},
            )
        ).all()
    used = (
        await deps.redis.mget([f"{deps.namespace}:apikey-used:{row.id}" for row in rows])
        if rows
        else []
    )
    return ApiKeyList(
        items=[
            ApiKeyView(
                id=str(row.id),
                name=row.name,
                prefix=f"{apikeys.MARK}{row.prefix}",
                scopes=row.scopes,
                expires_at=row.expires_at,
                created_at=row.created_at,
                last_used_at=datetime.fromtimestamp(float(last), UTC) if last else None,
            )
            for row, last in zip(rows, used, strict=True)
        ]
    )
