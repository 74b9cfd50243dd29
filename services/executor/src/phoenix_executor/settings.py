from __future__ import annotations

from typing import Annotated

import msgspec
from phoenix_platform.netguard import parse_networks
from phoenix_platform.settings import BaseSettings


class ExecutorSettings(BaseSettings, frozen=True, kw_only=True):
    health_port: Annotated[
        int, msgspec.Meta(ge=0, le=65535, description="Port of /healthz and /readyz (0 = any)")
    ] = 8084
    region: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[a-z0-9][a-z0-9-]{0,31}$",
            description="Region whose checks this executor runs",
        ),
    ] = "default"
    concurrency: Annotated[
        int, msgspec.Meta(ge=1, le=10_000, description="Checks run at the same time")
    ] = 100
    allow_private_targets: Annotated[
        str,
        msgspec.Meta(
            description="Comma-separated CIDRs that checks may reach despite the SSRF guard"
        ),
    ] = ""

    def __post_init__(self) -> None:
        try:
            parse_networks(self.allow_private_targets)
        except ValueError as exc:
            raise ValueError(f"PHOENIX_ALLOW_PRIVATE_TARGETS: {exc}") from None
