"""The current password, asked again before a signed-in user changes a credential.

A stolen session must not be a faster password oracle than the login form:
each check takes a slot of the same per-account budget as a login
(``throttle.py``), so guesses here and at login share one limit and get the
same answer over it (``throttled``: 429 with ``Retry-After`` at the gateway).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from phoenix_contracts.base import Rejected
from phoenix_platform.logging import get_logger
from sqlalchemy import text

from phoenix_auth.passwords import verify_password

if TYPE_CHECKING:
    from phoenix_auth.handlers import AuthDeps

log = get_logger(__name__)
WRONG_PASSWORD = Rejected(
    code="forbidden", field="current_password", message="the current password is wrong"
)


async def confirm_current_password(
    deps: AuthDeps,
    user_id: str,
    password: str,
    and_then: Callable[[], Awaitable[Rejected | None]] | None = None,
) -> Rejected | None:
    """None when ``password`` is the user's and ``and_then`` (a second factor) passes too.

    Both run as one attempt: a right password never resets the count while the
    code after it is being guessed.
    """
    async with deps.engine.connect() as conn:
        user = (
            await conn.execute(
                text("select username_key, password_hash from users where id = :u"),
                {"u": user_id},
            )
        ).one_or_none()

    async def check() -> Rejected | None:
        if not await verify_password(user.password_hash if user else None, password):
            return WRONG_PASSWORD
        return await and_then() if and_then else None

    # The login's account key: one budget for both ways of guessing.
    refusal = await deps.throttle.guarded(user.username_key if user else user_id, "", check)
    if refusal is not None and refusal.code == "throttled":
        log.warning("user.password_check_throttled", user_id=user_id)
    return refusal
