from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from phoenix_platform.settings import BaseSettings, HealthPort


class AuthSettings(BaseSettings, frozen=True, kw_only=True):
    secret_fields: ClassVar[frozenset[str]] = BaseSettings.secret_fields | {"totp_key"}

    health_port: HealthPort = 8082
    signup_mode: Annotated[
        str,
        msgspec.Meta(
            pattern="^(open|first-user)$",
            description="open: anyone may sign up; first-user: only the first signup (the owner)",
        ),
    ] = "first-user"
    session_idle_seconds: Annotated[
        int, msgspec.Meta(ge=60, description="A session unused this long expires")
    ] = 7 * 24 * 3600
    session_absolute_seconds: Annotated[
        int, msgspec.Meta(ge=300, description="A session ends this long after login, used or not")
    ] = 30 * 24 * 3600
    login_failures_per_account: Annotated[
        int, msgspec.Meta(ge=1, description="Failed logins of one account before it is throttled")
    ] = 10
    login_failures_per_address: Annotated[
        int, msgspec.Meta(ge=1, description="Failed logins from one address before it is throttled")
    ] = 50
    login_throttle_window: Annotated[
        int, msgspec.Meta(ge=10, description="Seconds over which failed logins are counted")
    ] = 900
    totp_key: Annotated[
        str,
        msgspec.Meta(
            description="Base64 of 32 random bytes; encrypts two-factor secrets (AES-256-GCM)."
            " Empty: two-factor enrolment is refused (phoenix dev makes one)"
        ),
    ] = ""

    def __post_init__(self) -> None:
        from phoenix_auth.sealing import parse_key

        if self.totp_key:
            try:
                parse_key(self.totp_key)
            except ValueError as exc:
                raise ValueError(f"PHOENIX_TOTP_KEY: {exc}") from None

    def totp_key_bytes(self) -> bytes | None:
        from phoenix_auth.sealing import parse_key

        return parse_key(self.totp_key) if self.totp_key else None
