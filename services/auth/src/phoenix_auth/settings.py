from __future__ import annotations

from typing import Annotated

import msgspec
from phoenix_platform.settings import BaseSettings, HealthPort


class AuthSettings(BaseSettings, frozen=True, kw_only=True):
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
