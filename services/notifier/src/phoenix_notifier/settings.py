from __future__ import annotations

from typing import Annotated

import msgspec
from phoenix_platform.netguard import parse_networks
from phoenix_platform.settings import BaseSettings


class NotifierSettings(BaseSettings, frozen=True, kw_only=True):
    health_port: Annotated[
        int, msgspec.Meta(ge=0, le=65535, description="Port of /healthz and /readyz (0 = any)")
    ] = 8086
    allow_private_targets: Annotated[
        str,
        msgspec.Meta(
            description="Comma-separated CIDRs that checks may reach despite the SSRF guard"
        ),
    ] = ""
    send_timeout: Annotated[
        float, msgspec.Meta(gt=0, le=120, description="Seconds one delivery attempt may take")
    ] = 10.0
    alert_max_age: Annotated[
        int,
        msgspec.Meta(
            ge=60, description="Status changes older than this (seconds) are logged, not sent"
        ),
    ] = 3600

    def __post_init__(self) -> None:
        try:
            parse_networks(self.allow_private_targets)
        except ValueError as exc:
            raise ValueError(f"PHOENIX_ALLOW_PRIVATE_TARGETS: {exc}") from None
