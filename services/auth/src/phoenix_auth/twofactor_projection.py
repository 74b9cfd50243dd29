"""Two-factor state in the auth read model: the sealed secret and recovery-code digests."""

from __future__ import annotations

from phoenix_contracts.twofactor import (
    UserRecoveryCodeUsed,
    UserTwoFactorDisabled,
    UserTwoFactorEnabled,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def project_two_factor(
    conn: AsyncConnection,
    event: UserTwoFactorEnabled | UserTwoFactorDisabled | UserRecoveryCodeUsed,
) -> None:
    # Replaying any of these is harmless: enabling replaces, disabling deletes,
    # a used code stays used at its first time.
    user = {"u": event.aggregate_id}
    match event:
        case UserTwoFactorEnabled():
            await conn.execute(text("delete from recovery_codes where user_id = :u"), user)
            await conn.execute(
                text(
                    "insert into two_factor (user_id, sealed_secret, enabled_at)"
                    " values (:u, :s, :t) on conflict (user_id) do update"
                    " set sealed_secret = excluded.sealed_secret, enabled_at = excluded.enabled_at"
                ),
                {**user, "s": event.sealed_secret, "t": event.occurred_at},
            )
            for digest in event.recovery_code_digests:
                await conn.execute(
                    text(
                        "insert into recovery_codes (user_id, digest) values (:u, :d)"
                        " on conflict do nothing"
                    ),
                    {**user, "d": digest},
                )
        case UserTwoFactorDisabled():
            await conn.execute(text("delete from recovery_codes where user_id = :u"), user)
            await conn.execute(text("delete from two_factor where user_id = :u"), user)
        case UserRecoveryCodeUsed():
            await conn.execute(
                text(
                    "update recovery_codes set used_at = :t"
                    " where user_id = :u and digest = :d and used_at is null"
                ),
                {**user, "d": event.digest, "t": event.occurred_at},
            )
