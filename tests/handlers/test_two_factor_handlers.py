"""Two-factor login through the auth handlers, on real NATS, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import msgspec
import pytest
from phoenix_auth import totp
from phoenix_auth.handlers import AuthDeps, log_in
from phoenix_auth.twofactor import (
    confirm_two_factor,
    disable_two_factor,
    start_two_factor,
    two_factor_status,
)
from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import USER, Done, LoggedIn, LogIn
from phoenix_contracts.twofactor import (
    ConfirmTwoFactor,
    DisableTwoFactor,
    GetTwoFactor,
    RecoveryCodes,
    StartTwoFactor,
    TwoFactorEnrolment,
    UserTwoFactorEnabled,
)

from tests.handlers.auth_kit import PASSWORD, signed_up

pytestmark = pytest.mark.integration


def code_for(secret: str, steps_ahead: int = 0) -> str:
    return totp.totp(totp.decode_secret(secret), time.time() + steps_ahead * totp.STEP_SECONDS)


async def enrolled(deps: AuthDeps) -> tuple[str, str, str, str, list[str]]:
    """A user with two-factor on: (user id, org id, username, base32 secret, recovery codes)."""
    user_id, org_id, name = await signed_up(deps)
    started = await start_two_factor(
        StartTwoFactor(user_id=user_id, current_password=PASSWORD), deps
    )
    assert isinstance(started, TwoFactorEnrolment), started
    confirmed = await confirm_two_factor(
        ConfirmTwoFactor(user_id=user_id, organization_id=org_id, code=code_for(started.secret)),
        deps,
    )
    assert isinstance(confirmed, RecoveryCodes), confirmed
    return user_id, org_id, name, started.secret, confirmed.codes


async def test_a_login_needs_the_code_once_two_factor_is_confirmed(deps: AuthDeps) -> None:
    user_id, _, name, secret, _ = await enrolled(deps)
    without = await log_in(LogIn(username=name, password=PASSWORD), deps)
    assert isinstance(without, Rejected)
    assert without.code == "two_factor_required"
    # the confirmation spent this step's code: the next step's is accepted (drift +1)
    code = code_for(secret, steps_ahead=1)
    wrong_password = await log_in(LogIn(username=name, password="not it", totp_code=code), deps)
    assert isinstance(wrong_password, Rejected)
    assert wrong_password.code == "unauthorized"
    with_code = await log_in(LogIn(username=name, password=PASSWORD, totp_code=code), deps)
    assert isinstance(with_code, LoggedIn), with_code
    assert (await deps.sessions.resolve(with_code.session_token)) is not None
    replayed = await log_in(LogIn(username=name, password=PASSWORD, totp_code=code), deps)
    assert isinstance(replayed, Rejected)
    assert replayed.code == "two_factor_invalid"
    status = await two_factor_status(GetTwoFactor(user_id=user_id), deps)
    assert (status.enabled, status.recovery_codes_left, status.pending) == (True, 10, False)


async def test_two_logins_racing_with_one_code_let_only_one_in(deps: AuthDeps) -> None:
    _, _, name, secret, _ = await enrolled(deps)
    attempt = LogIn(username=name, password=PASSWORD, totp_code=code_for(secret, steps_ahead=1))
    replies = await asyncio.gather(*(log_in(attempt, deps) for _ in range(4)))
    assert sum(isinstance(r, LoggedIn) for r in replies) == 1


async def test_a_recovery_code_works_once(deps: AuthDeps) -> None:
    user_id, _, name, _, codes = await enrolled(deps)
    assert len(set(codes)) == 10
    attempt = LogIn(username=name, password=PASSWORD, recovery_code=codes[3].upper())
    assert isinstance(await log_in(attempt, deps), LoggedIn)
    again = await log_in(attempt, deps)
    assert isinstance(again, Rejected)
    assert again.code == "two_factor_invalid"
    assert (await two_factor_status(GetTwoFactor(user_id=user_id), deps)).recovery_codes_left == 9


async def test_one_recovery_code_spent_by_two_logins_at_once_lets_one_in(deps: AuthDeps) -> None:
    _, _, name, _, codes = await enrolled(deps)
    attempt = LogIn(username=name, password=PASSWORD, recovery_code=codes[0])
    replies = await asyncio.gather(*(log_in(attempt, deps) for _ in range(3)))
    assert sum(isinstance(r, LoggedIn) for r in replies) == 1


async def test_wrong_codes_count_as_failed_logins_and_throttle_the_account(
    deps: AuthDeps,
) -> None:
    _, _, name, secret, _ = await enrolled(deps)
    right = code_for(secret, steps_ahead=1)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):  # the fixture's limit per account
        reply = await log_in(LogIn(username=name, password=PASSWORD, totp_code=wrong), deps)
        assert isinstance(reply, Rejected)
        assert reply.code == "two_factor_invalid"
    throttled = await log_in(LogIn(username=name, password=PASSWORD, totp_code=right), deps)
    assert isinstance(throttled, Rejected)
    assert throttled.code == "throttled"


async def test_asking_for_the_code_is_not_a_failed_login(deps: AuthDeps) -> None:
    _, _, name, secret, _ = await enrolled(deps)
    for _ in range(6):
        reply = await log_in(LogIn(username=name, password=PASSWORD), deps)
        assert isinstance(reply, Rejected)
        assert reply.code == "two_factor_required"
    code = code_for(secret, steps_ahead=1)
    assert isinstance(
        await log_in(LogIn(username=name, password=PASSWORD, totp_code=code), deps), LoggedIn
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"totp_code": "12345"}, "totp_code"),
        ({"totp_code": "abcdef"}, "totp_code"),
        ({"recovery_code": "short"}, "recovery_code"),
        ({"totp_code": "123456", "recovery_code": "abcde-fghjk"}, "totp_code"),
    ],
)
async def test_malformed_codes_are_refused_naming_the_field(
    deps: AuthDeps, fields: dict[str, str], field: str
) -> None:
    _, _, name = await signed_up(deps)
    reply = await log_in(LogIn(username=name, password=PASSWORD, **fields), deps)
    assert isinstance(reply, Rejected)
    assert (reply.code, reply.field) == ("invalid", field)


async def test_enrolment_refusals_say_what_is_wrong(deps: AuthDeps) -> None:
    user_id, org_id, _ = await signed_up(deps)
    no_enrolment = await confirm_two_factor(
        ConfirmTwoFactor(user_id=user_id, organization_id=org_id, code="123456"), deps
    )
    assert isinstance(no_enrolment, Rejected)
    assert no_enrolment.code == "conflict"
    assert "pending" in no_enrolment.message
    wrong_password = await start_two_factor(
        StartTwoFactor(user_id=user_id, current_password="not it"), deps
    )
    assert isinstance(wrong_password, Rejected)
    assert (wrong_password.code, wrong_password.field) == ("forbidden", "current_password")
    started = await start_two_factor(
        StartTwoFactor(user_id=user_id, current_password=PASSWORD), deps
    )
    assert isinstance(started, TwoFactorEnrolment)
    assert started.uri.startswith("otpauth://totp/Phoenix:")
    assert (await two_factor_status(GetTwoFactor(user_id=user_id), deps)).pending
    right = code_for(started.secret)
    wrong = await confirm_two_factor(
        ConfirmTwoFactor(
            user_id=user_id, organization_id=org_id, code=f"{(int(right) + 1) % 1_000_000:06d}"
        ),
        deps,
    )
    assert isinstance(wrong, Rejected)
    assert (wrong.code, wrong.field) == ("invalid", "code")
    malformed = await confirm_two_factor(
        ConfirmTwoFactor(user_id=user_id, organization_id=org_id, code="12 34"), deps
    )
    assert isinstance(malformed, Rejected)
    assert (malformed.code, malformed.field) == ("invalid", "code")
    # a wrong code does not throw the pending secret away
    confirmed = await confirm_two_factor(
        ConfirmTwoFactor(user_id=user_id, organization_id=org_id, code=right), deps
    )
    assert isinstance(confirmed, RecoveryCodes)
    again = await start_two_factor(StartTwoFactor(user_id=user_id, current_password=PASSWORD), deps)
    assert isinstance(again, Rejected)
    assert again.code == "conflict"


async def test_without_a_key_enrolment_is_refused_naming_the_setting(deps: AuthDeps) -> None:
    user_id, _, _ = await signed_up(deps)
    reply = await start_two_factor(
        StartTwoFactor(user_id=user_id, current_password=PASSWORD), replace(deps, totp_key=None)
    )
    assert isinstance(reply, Rejected)
    assert reply.code == "unavailable"
    assert "PHOENIX_SECRETS_KEY" in reply.message


async def test_the_event_log_holds_neither_the_secret_nor_the_recovery_codes(
    deps: AuthDeps,
) -> None:
    user_id, _, _, secret, codes = await enrolled(deps)
    events, _ = await deps.store.load(USER, user_id)
    enabled = [e for e in events if isinstance(e, UserTwoFactorEnabled)]
    assert len(enabled) == 1
    stored = msgspec.json.encode(events).decode()
    raw_secret = totp.decode_secret(secret)
    assert secret not in stored
    assert raw_secret.hex() not in stored
    assert all(c not in stored and c.replace("-", "") not in stored for c in codes)
    assert enabled[0].recovery_code_digests == [totp.recovery_digest(c) for c in codes]


async def test_disabling_needs_password_and_code_and_then_the_password_is_enough(
    deps: AuthDeps,
) -> None:
    user_id, org_id, name, _, codes = await enrolled(deps)

    def disable(password: str, code: str) -> DisableTwoFactor:
        return DisableTwoFactor(
            user_id=user_id, organization_id=org_id, current_password=password, code=code
        )

    wrong_password = await disable_two_factor(disable("not it", codes[0]), deps)
    assert isinstance(wrong_password, Rejected)
    assert wrong_password.field == "current_password"
    wrong_code = await disable_two_factor(disable(PASSWORD, "000000"), deps)
    assert isinstance(wrong_code, Rejected)
    assert (wrong_code.code, wrong_code.field) == ("forbidden", "code")
    assert isinstance(await disable_two_factor(disable(PASSWORD, codes[0]), deps), Done)
    assert isinstance(await log_in(LogIn(username=name, password=PASSWORD), deps), LoggedIn)
    status = await two_factor_status(GetTwoFactor(user_id=user_id), deps)
    assert (status.enabled, status.recovery_codes_left) == (False, 0)
    off = await disable_two_factor(disable(PASSWORD, codes[1]), deps)
    assert isinstance(off, Rejected)
    assert off.code == "conflict"


async def test_wrong_codes_when_turning_two_factor_off_are_throttled_like_logins(
    deps: AuthDeps,
) -> None:
    """A stolen session with the password must not guess the code faster than a login can:
    the right password alone does not reset the count while the code is wrong."""
    user_id, org_id, name, secret, _ = await enrolled(deps)
    right = code_for(secret, steps_ahead=1)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    def disable(code: str) -> DisableTwoFactor:
        return DisableTwoFactor(
            user_id=user_id, organization_id=org_id, current_password=PASSWORD, code=code
        )

    for _ in range(5):  # the fixture's limit per account
        reply = await disable_two_factor(disable(wrong), deps)
        assert isinstance(reply, Rejected)
        assert (reply.code, reply.field) == ("forbidden", "code")
    throttled = await disable_two_factor(disable(right), deps)
    assert isinstance(throttled, Rejected)
    assert throttled.code == "throttled"
    assert (await two_factor_status(GetTwoFactor(user_id=user_id), deps)).enabled
    login = await log_in(LogIn(username=name, password=PASSWORD, totp_code=right), deps)
    assert isinstance(login, Rejected)
    assert login.code == "throttled"
