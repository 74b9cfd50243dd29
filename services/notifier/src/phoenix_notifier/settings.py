from __future__ import annotations

from typing import Annotated

import msgspec
from phoenix_platform.settings import HealthPort, OutboundSettings


class NotifierSettings(OutboundSettings, frozen=True, kw_only=True):
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
