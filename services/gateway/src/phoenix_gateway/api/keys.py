"""API keys: shown once at creation, listed without the secret, revoked at once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, post
from nats.aio.client import Client
from phoenix_contracts.identity import (
    ApiKeyList,
    ApiKeyView,
    CreateApiKey,
    Done,
    ListApiKeys,
    Principal,
    RevokeApiKey,
)
from phoenix_contracts.subjects import Subjects
from phoenix_platform.logging import current_correlation

from phoenix_gateway.api.auth import ask
from phoenix_gateway.api.idempotency import CARRIES_CREDENTIAL
from phoenix_gateway.api.problems import Problem


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[
        list[Literal["read", "write", "admin"]], msgspec.Meta(min_length=1, max_length=3)
    ] = msgspec.field(default_factory=lambda: ["read"])
    expires_at: datetime | None = None


class ApiKey(msgspec.Struct, kw_only=True):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None = None
    key: str | None = None  # only in the answer to the creation: store it now


def to_key(view: ApiKeyView) -> ApiKey:
    return ApiKey(
        **{k: v for k, v in msgspec.structs.asdict(view).items() if k in ApiKey.__struct_fields__}
    )


class ApiKeyController(Controller):
    path = "/api/v1/api-keys"
    opt = {"account": True}  # a viewer manages their own account (principal.py)

    @post("/", status_code=201, opt={CARRIES_CREDENTIAL: True})
    async def create(
        self, data: ApiKeyCreate, principal: Principal, nats: Client, subjects: Subjects
    ) -> ApiKey:
        # A key cannot mint keys: otherwise a leaked key would outlive its revocation.
        if principal.api_key_id:
            raise Problem(403, "API keys are created with a session, not with another key")
        reply = await ask(
            nats,
            subjects,
            CreateApiKey(
                user_id=principal.user.id,
                organization_id=principal.organization_id,
                name=data.name,
                scopes=data.scopes,
                expires_at=data.expires_at,
                correlation_id=current_correlation(),
            ),
            ApiKeyView,
        )
        return to_key(reply)

    @get("/")
    async def list_keys(
        self, principal: Principal, nats: Client, subjects: Subjects
    ) -> list[ApiKey]:
        reply = await ask(
            nats,
            subjects,
            ListApiKeys(user_id=principal.user.id, organization_id=principal.organization_id),
            ApiKeyList,
        )
        return [to_key(item) for item in reply.items]

    @delete("/{api_key_id:uuid}", status_code=204)
    async def revoke(
        self, api_key_id: Any, principal: Principal, nats: Client, subjects: Subjects
    ) -> None:
        await ask(
            nats,
            subjects,
            RevokeApiKey(
                user_id=principal.user.id,
                organization_id=principal.organization_id,
                api_key_id=str(api_key_id),
                correlation_id=current_correlation(),
            ),
            Done,
        )
