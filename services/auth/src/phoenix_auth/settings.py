from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from phoenix_platform.settings import (
    SECRET_FIELDS_WITH_KEY,
    BaseSettings,
    HealthPort,
    SecretsKey,
)


class AuthSettings(BaseSettings, frozen=True, kw_only=True):
    secret_fields: ClassVar[frozenset[str]] = SECRET_FIELDS_WITH_KEY

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
        int,
        msgspec.Meta(
            ge=1,
            description="Wrong passwords for one account (at login or as the current password)"
            " before it is throttled",
        ),
    ] = 10
    login_failures_per_address: Annotated[
        int, msgspec.Meta(ge=1, description="Failed logins from one address before it is throttled")
    ] = 50
    login_throttle_window: Annotated[
        int, msgspec.Meta(ge=10, description="Seconds over which failed logins are counted")
    ] = 900
    secrets_key: SecretsKey = ""
