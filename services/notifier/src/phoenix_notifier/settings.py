from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from phoenix_platform.settings import (
    SECRET_FIELDS_WITH_KEY,
    HealthPort,
    OutboundSettings,
    SecretsKey,
)


class NotifierSettings(OutboundSettings, frozen=True, kw_only=True):
    secret_fields: ClassVar[frozenset[str]] = SECRET_FIELDS_WITH_KEY

    health_port: HealthPort = 8086
    send_timeout: Annotated[
        float, msgspec.Meta(gt=0, le=120, description="Seconds one delivery attempt may take")
    ] = 10.0
    alert_max_age: Annotated[
        int,
        msgspec.Meta(
            ge=60, description="Status changes older than this (seconds) are logged, not sent"
        ),
    ] = 3600
    secrets_key: SecretsKey = ""
