"""Two-factor login (TOTP): enrolment, confirmation, disabling, and the login check.

Where things live:
- a pending secret (issued, not yet confirmed): Redis, sealed, for 10 minutes;
- the confirmed secret: the ``user.two_factor_enabled`` event and the read
  model, sealed with ``PHOENIX_SECRETS_KEY`` (AES-GCM, bound to the user id);
- recovery codes: SHA-256 digests only; spending one appends
  ``user.recovery_code_used``, guarded by the user aggregate's sequence, so a
  code cannot be spent twice even by two logins at the same instant;
- the last TOTP step used per user: Redis, raised atomically, so a code is
  accepted once (replay protection).
Secrets, codes and recovery codes are never logged.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.identity import USER, Done, LogIn
from phoenix_contracts.twofactor import (
    ConfirmTwoFactor,
    DisableTwoFactor,
    GetTwoFactor,
    RecoveryCodes,
    StartTwoFactor,
    TwoFactorEnrolment,
    TwoFactorStatus,
    UserRecoveryCodeUsed,
    UserTwoFactorDisabled,
    UserTwoFactorEnabled,
)
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.eventstore import ConcurrencyConflict
from phoenix_platform.sealing import SealError, seal, unseal
from sqlalchemy import text

from phoenix_auth import totp
from phoenix_auth.current_password import confirm_current_password

if TYPE_CHECKING:
    from phoenix_auth.handlers import AuthDeps

log = get_logger(__name__)

PENDING_SECONDS = 600
RECOVERY_CODE_COUNT = 10
# Longer than the drift window (3 steps): once it expires no code it guarded is valid anyway.
LAST_STEP_SECONDS = 4 * totp.STEP_SECONDS

NOT_CONFIGURED = Rejected(
    code="unavailable",
    message="two-factor login is not configured on this server:"
    " set PHOENIX_SECRETS_KEY (or PHOENIX_SECRETS_KEY_FILE) for the auth service",
)
REQUIRED = Rejected(
    code="two_factor_required",
    message="this account uses two-factor login: send totp_code (or recovery_code)",
)
WRONG_CODE = Rejected(
    code="two_factor_invalid", message="the two-factor code is wrong or was already used"
)

# Raise the last used step only upwards, atomically: two logins racing with
# the same code cannot both win.
_CLAIM_STEP = """
local current = tonumber(redis.call('get', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then
  redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""


def unused_recovery_digests(events: Sequence[Event]) -> list[str]:
    """Fold a user's events into the recovery codes still unspent (pure)."""
    unused: list[str] = []
    for event in events:
        match event:
            case UserTwoFactorEnabled():
                unused = list(event.recovery_code_digests)
            case UserTwoFactorDisabled():
                unused = []
            case UserRecoveryCodeUsed():
                unused = [d for d in unused if d != event.digest]
    return unused


def validate_login_codes(cmd: LogIn) -> Rejected | None:
    """Malformed second-factor input is refused before anything is checked."""
    if cmd.totp_code and cmd.recovery_code:
        return Rejected(
            code="invalid", field="totp_code", message="send totp_code or recovery_code, not both"
        )
    if cmd.totp_code and not totp.CODE.fullmatch(totp.normalize_code(cmd.totp_code)):
        return Rejected(code="invalid", field="totp_code", message="must be 6 digits")
    if cmd.recovery_code and not totp.RECOVERY.fullmatch(
        totp.normalize_code(cmd.recovery_code).lower()
    ):
        return Rejected(code="invalid", field="recovery_code", message="must look like xxxxx-xxxxx")
    return None


async def check_second_factor(deps: AuthDeps, user_id: str, cmd: LogIn) -> Rejected | None:
    """None when the login may go on: two-factor is off, or the code is right (and now spent)."""
    sealed = await _sealed_secret(deps, user_id)
    if sealed is None:
        return None
    if cmd.recovery_code:
        return None if await _spend_recovery_code(deps, user_id, cmd.recovery_code) else WRONG_CODE
    if not cmd.totp_code:
        return REQUIRED
    return await _accept_totp(deps, user_id, sealed, cmd.totp_code)


async def start_two_factor(cmd: StartTwoFactor, deps: AuthDeps) -> TwoFactorEnrolment | Rejected:
    if deps.totp_key is None:
        return NOT_CONFIGURED
    if (
        refusal := await confirm_current_password(deps, cmd.user_id, cmd.current_password)
    ) is not None:
        return refusal
    async with deps.engine.connect() as conn:
        user = (
            await conn.execute(
                text(
                    "select u.username, t.user_id is not null as enabled"
                    " from users u left join two_factor t on t.user_id = u.id where u.id = :u"
                ),
                {"u": cmd.user_id},
            )
        ).one()
    if user.enabled:
        return Rejected(code="conflict", message="two-factor login is already on; disable it first")
    secret = secrets.token_bytes(totp.SECRET_BYTES)
    await deps.redis.set(
        _pending_key(deps, cmd.user_id),
        seal(deps.totp_key, secret, cmd.user_id),
        ex=PENDING_SECONDS,
    )
    log.info("user.two_factor_started", user_id=cmd.user_id)
    return TwoFactorEnrolment(
        secret=totp.encode_secret(secret),
        uri=totp.provisioning_uri(user.username, secret),
        expires_in=PENDING_SECONDS,
    )


async def confirm_two_factor(cmd: ConfirmTwoFactor, deps: AuthDeps) -> RecoveryCodes | Rejected:
    if deps.totp_key is None:
        return NOT_CONFIGURED
    if not totp.CODE.fullmatch(totp.normalize_code(cmd.code)):
        return Rejected(code="invalid", field="code", message="must be 6 digits")
    pending = await deps.redis.get(_pending_key(deps, cmd.user_id))
    if pending is None:
        return Rejected(
            code="conflict",
            message="no two-factor enrolment is pending (it lasts 10 minutes): start one first",
        )
    sealed = pending.decode() if isinstance(pending, bytes) else str(pending)
    if await _sealed_secret(deps, cmd.user_id) is not None:
        return Rejected(code="conflict", message="two-factor login is already on")
    refusal = await _accept_totp(deps, cmd.user_id, sealed, cmd.code)
    if refusal is not None and refusal.code != WRONG_CODE.code:
        return refusal
    if refusal is not None:
        return Rejected(
            code="invalid",
            field="code",
            message="the code does not match the new secret (is the device's clock right?)",
        )
    codes = [totp.recovery_code(secrets.token_bytes(10)) for _ in range(RECOVERY_CODE_COUNT)]
    events, sequence = await deps.store.load(USER, cmd.user_id)
    event = UserTwoFactorEnabled(
        event_id=uuid7(),
        aggregate_id=cmd.user_id,
        aggregate_version=len(events) + 1,
        occurred_at=datetime.now(UTC),
        organization_id=cmd.organization_id,
        correlation_id=cmd.correlation_id,
        sealed_secret=sealed,
        recovery_code_digests=[totp.recovery_digest(code) for code in codes],
    )
    await deps.projector.wait_for(await deps.store.append([event], sequence))
    await deps.redis.delete(_pending_key(deps, cmd.user_id))
    log.info("user.two_factor_enabled", user_id=cmd.user_id)
    return RecoveryCodes(codes=codes)


async def disable_two_factor(cmd: DisableTwoFactor, deps: AuthDeps) -> Done | Rejected:
    # Password and code are one attempt for the throttle: a wrong code counts as a
    # failure, and the right password alone does not reset the count.
    refusal = await confirm_current_password(
        deps, cmd.user_id, cmd.current_password, lambda: _check_code(deps, cmd)
    )
    if refusal is not None:
        return refusal
    # Sessions are left alone: turning a protection off is the user's choice,
    # and they were all opened under the stronger rule.
    events, sequence = await deps.store.load(USER, cmd.user_id)
    event = UserTwoFactorDisabled(
        event_id=uuid7(),
        aggregate_id=cmd.user_id,
        aggregate_version=len(events) + 1,
        occurred_at=datetime.now(UTC),
        organization_id=cmd.organization_id,
        correlation_id=cmd.correlation_id,
    )
    await deps.projector.wait_for(await deps.store.append([event], sequence))
    log.info("user.two_factor_disabled", user_id=cmd.user_id)
    return Done()


async def _check_code(deps: AuthDeps, cmd: DisableTwoFactor) -> Rejected | None:
    """None when ``cmd.code`` is a valid TOTP or recovery code of the user (and now spent)."""
    sealed = await _sealed_secret(deps, cmd.user_id)
    if sealed is None:
        return Rejected(code="conflict", message="two-factor login is already off")
    if totp.CODE.fullmatch(totp.normalize_code(cmd.code)):
        refusal = await _accept_totp(deps, cmd.user_id, sealed, cmd.code)
    elif totp.RECOVERY.fullmatch(totp.normalize_code(cmd.code).lower()):
        spent = await _spend_recovery_code(deps, cmd.user_id, cmd.code)
        refusal = None if spent else WRONG_CODE
    else:
        return Rejected(
            code="invalid", field="code", message="a 6-digit code or a recovery code xxxxx-xxxxx"
        )
    if refusal is not None and refusal.code == WRONG_CODE.code:
        return Rejected(code="forbidden", field="code", message=refusal.message)
    return refusal


async def two_factor_status(cmd: GetTwoFactor, deps: AuthDeps) -> TwoFactorStatus:
    async with deps.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "select exists (select 1 from two_factor where user_id = :u) as enabled,"
                    " (select count(*) from recovery_codes where user_id = :u"
                    " and used_at is null) as left"
                ),
                {"u": cmd.user_id},
            )
        ).one()
    pending = bool(await deps.redis.exists(_pending_key(deps, cmd.user_id)))
    return TwoFactorStatus(enabled=row.enabled, recovery_codes_left=row.left, pending=pending)


# --- internals --------------------------------------------------------------------


def _pending_key(deps: AuthDeps, user_id: str) -> str:
    return f"{deps.namespace}:two-factor-pending:{user_id}"


def _last_step_key(deps: AuthDeps, user_id: str) -> str:
    return f"{deps.namespace}:two-factor-last-step:{user_id}"


async def _sealed_secret(deps: AuthDeps, user_id: str) -> str | None:
    async with deps.engine.connect() as conn:
        sealed: str | None = (
            await conn.execute(
                text("select sealed_secret from two_factor where user_id = :u"), {"u": user_id}
            )
        ).scalar_one_or_none()
    return sealed


async def _accept_totp(deps: AuthDeps, user_id: str, sealed: str, code: str) -> Rejected | None:
    """None when ``code`` is right for now ±1 step and newer than the last code used."""
    if deps.totp_key is None:
        return NOT_CONFIGURED
    try:
        secret = unseal(deps.totp_key, sealed, user_id)
    except SealError:
        # Another key than the one that sealed it, or a damaged value: fail closed.
        log.error("user.two_factor_secret_unreadable", user_id=user_id)
        return Rejected(code="unavailable", message="two-factor secrets cannot be read")
    key = _last_step_key(deps, user_id)
    last = int(await deps.redis.get(key) or -1)
    step = totp.matching_step(secret, code, time.time(), last)
    if step is None:
        return WRONG_CODE
    claimed = await deps.redis.eval(_CLAIM_STEP, 1, key, step, LAST_STEP_SECONDS)
    return None if claimed == 1 else WRONG_CODE


async def _spend_recovery_code(deps: AuthDeps, user_id: str, code: str) -> bool:
    # Decided from the event log, not the read model: the append below is
    # guarded by the sequence loaded here, so a code is spent exactly once.
    events, sequence = await deps.store.load(USER, user_id)
    unused = unused_recovery_digests(events)
    digest = totp.matching_recovery_digest(code, unused)
    if digest is None:
        return False
    event = UserRecoveryCodeUsed(
        event_id=uuid7(),
        aggregate_id=user_id,
        aggregate_version=len(events) + 1,
        occurred_at=datetime.now(UTC),
        organization_id=events[0].organization_id,
        digest=digest,
    )
    try:
        await deps.projector.wait_for(await deps.store.append([event], sequence))
    except ConcurrencyConflict:
        return False  # the user changed at this very moment (maybe this code): try again
    log.info("user.recovery_code_used", user_id=user_id, left=len(unused) - 1)
    return True
