"""Two-factor login of the caller's own account: enrol, confirm, look, turn off."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from nats.aio.client import Client
from phoenix_contracts.identity import Done, Principal
from phoenix_contracts.subjects import Subjects
from phoenix_contracts.twofactor import (
    ConfirmTwoFactor,
    DisableTwoFactor,
    GetTwoFactor,
    RecoveryCodes,
    StartTwoFactor,
    TwoFactorEnrolment,
    TwoFactorStatus,
)
from phoenix_platform.logging import current_correlation

from phoenix_gateway.api.auth import ask
from phoenix_gateway.api.idempotency import CARRIES_CREDENTIAL
from phoenix_gateway.api.problems import Problem

Password = Annotated[str, msgspec.Meta(max_length=1024)]
# Auth checks the form (6 digits, or a recovery code); the gateway only bounds the size.
Code = Annotated[str, msgspec.Meta(max_length=64)]


class TwoFactorStart(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password


class TwoFactorConfirm(msgspec.Struct, forbid_unknown_fields=True):
    code: Code


class TwoFactorDisable(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    code: Code


class TwoFactorSetup(msgspec.Struct):
    secret: str
    otpauth_uri: str
    expires_in: int


class TwoFactorRecoveryCodes(msgspec.Struct):
    recovery_codes: list[str]


class TwoFactorState(msgspec.Struct):
    enabled: bool
    pending: bool
    recovery_codes_left: int


def _session_only(principal: Principal) -> None:
    if principal.api_key_id:
        raise Problem(403, "two-factor login is managed with a session, not an API key")


class TwoFactorController(Controller):
    path = "/api/v1/account/two-factor"

    @get("/")
    async def state(self, principal: Principal, nats: Client, subjects: Subjects) -> TwoFactorState:
        reply = await ask(nats, subjects, GetTwoFactor(user_id=principal.user.id), TwoFactorStatus)
        return TwoFactorState(
            enabled=reply.enabled,
            pending=reply.pending,
            recovery_codes_left=reply.recovery_codes_left,
        )

    @post("/", status_code=200, opt={CARRIES_CREDENTIAL: True})
    async def start(
        self, data: TwoFactorStart, principal: Principal, nats: Client, subjects: Subjects
    ) -> TwoFactorSetup:
        """A fresh secret, pending until confirmed with a code from it (10 minutes)."""
        _session_only(principal)
        reply = await ask(
            nats,
            subjects,
            StartTwoFactor(user_id=principal.user.id, current_password=data.current_password),
            TwoFactorEnrolment,
        )
        return TwoFactorSetup(
            secret=reply.secret, otpauth_uri=reply.uri, expires_in=reply.expires_in
        )

    @post("/confirm", status_code=200, opt={CARRIES_CREDENTIAL: True})
    async def confirm(
        self, data: TwoFactorConfirm, principal: Principal, nats: Client, subjects: Subjects
    ) -> TwoFactorRecoveryCodes:
        """Two-factor is on from now; the recovery codes are shown this once."""
        _session_only(principal)
        reply = await ask(
            nats,
            subjects,
            ConfirmTwoFactor(
                user_id=principal.user.id,
                organization_id=principal.organization_id,
                code=data.code,
                correlation_id=current_correlation(),
            ),
            RecoveryCodes,
        )
        return TwoFactorRecoveryCodes(recovery_codes=reply.codes)

    @delete("/", status_code=204)
    async def disable(
        self, data: TwoFactorDisable, principal: Principal, nats: Client, subjects: Subjects
    ) -> None:
        _session_only(principal)
        await ask(
            nats,
            subjects,
            DisableTwoFactor(
                user_id=principal.user.id,
                organization_id=principal.organization_id,
                current_password=data.current_password,
                code=data.code,
                correlation_id=current_correlation(),
            ),
            Done,
        )
