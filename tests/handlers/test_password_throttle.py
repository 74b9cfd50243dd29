"""Password guessing is bounded however it arrives: concurrent logins, or a signed-in
user's current-password checks. Real PostgreSQL, Redis and NATS; the password checks
are counted where they happen (``phoenix_password_checks_total``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from phoenix_auth.account import change_email, change_password
from phoenix_auth.handlers import AuthDeps, log_in
from phoenix_auth.throttle import LoginThrottle
from phoenix_auth.twofactor import disable_two_factor, start_two_factor
from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import ChangeEmail, ChangePassword, LoggedIn, LogIn
from phoenix_contracts.twofactor import DisableTwoFactor, StartTwoFactor
from prometheus_client import REGISTRY

from tests.handlers.auth_kit import PASSWORD, signed_up

pytestmark = pytest.mark.integration
LIMIT = 10


def password_checks() -> float:
    return sum(
        REGISTRY.get_sample_value("phoenix_password_checks_total", {"outcome": outcome}) or 0.0
        for outcome in ("right", "wrong")
    )


@pytest.fixture
def limited(deps: AuthDeps) -> AuthDeps:
    """10 failures per account, as shipped; the address limit out of the way."""
    throttle = LoginThrottle(
        deps.redis, deps.namespace, per_account=LIMIT, per_address=10_000, window=60
    )
    return replace(deps, throttle=throttle)


async def test_sixty_concurrent_wrong_logins_check_at_most_the_limit_of_passwords(
    limited: AuthDeps,
) -> None:
    _, _, name = await signed_up(limited)
    before = password_checks()
    replies = await asyncio.gather(
        *[log_in(LogIn(username=name, password=f"guess {n}"), limited) for n in range(60)]
    )
    assert password_checks() - before == LIMIT
    codes = [reply.code for reply in replies if isinstance(reply, Rejected)]
    assert codes.count("unauthorized") == LIMIT
    assert codes.count("throttled") == 60 - LIMIT
    held = await log_in(LogIn(username=name, password=PASSWORD), limited)
    assert isinstance(held, Rejected)
    assert held.code == "throttled"
    assert held.retry_after


async def test_right_logins_use_up_no_budget(deps: AuthDeps) -> None:
    """Every attempt takes a slot first; a right password gives it back, so only
    failures count, per account and per address (unfinished two-factor logins: see
    test_two_factor_handlers)."""
    _, _, name = await signed_up(deps)
    two = LoginThrottle(deps.redis, deps.namespace, per_account=2, per_address=2, window=60)
    for _ in range(4):
        login = LogIn(username=name, password=PASSWORD, client_address="203.0.113.7")
        reply = await log_in(login, replace(deps, throttle=two))
        assert isinstance(reply, LoggedIn), reply


Route = Callable[[AuthDeps, str, str, str], Awaitable[object]]


async def _change_email(deps: AuthDeps, user_id: str, org_id: str, password: str) -> object:
    command = ChangeEmail(
        user_id=user_id, organization_id=org_id, email="new@example.com", current_password=password
    )
    return await change_email(command, deps)


async def _change_password(deps: AuthDeps, user_id: str, org_id: str, password: str) -> object:
    command = ChangePassword(
        user_id=user_id,
        organization_id=org_id,
        current_password=password,
        new_password="another long passphrase",
    )
    return await change_password(command, deps)


async def _two_factor_on(deps: AuthDeps, user_id: str, org_id: str, password: str) -> object:
    return await start_two_factor(StartTwoFactor(user_id=user_id, current_password=password), deps)


async def _two_factor_off(deps: AuthDeps, user_id: str, org_id: str, password: str) -> object:
    command = DisableTwoFactor(
        user_id=user_id, organization_id=org_id, current_password=password, code="123456"
    )
    return await disable_two_factor(command, deps)


@pytest.mark.parametrize(
    "route",
    [_change_email, _change_password, _two_factor_on, _two_factor_off],
    ids=["change email", "change password", "two-factor on", "two-factor off"],
)
async def test_thirty_wrong_current_passwords_are_throttled_after_the_limit(
    limited: AuthDeps, route: Route
) -> None:
    user_id, org_id, name = await signed_up(limited)
    before = password_checks()
    replies = [await route(limited, user_id, org_id, f"guess {n}") for n in range(30)]
    assert password_checks() - before == LIMIT
    codes = [reply.code if isinstance(reply, Rejected) else "ok" for reply in replies]
    assert codes == ["forbidden"] * LIMIT + ["throttled"] * (30 - LIMIT)
    last = replies[-1]
    assert isinstance(last, Rejected)
    assert last.retry_after
    # Held up for the right password too, and at login: one budget per account.
    right = await route(limited, user_id, org_id, PASSWORD)
    assert isinstance(right, Rejected)
    assert right.code == "throttled"
    login = await log_in(LogIn(username=name, password=PASSWORD), limited)
    assert isinstance(login, Rejected)
    assert login.code == "throttled"
