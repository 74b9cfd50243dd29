from __future__ import annotations

from typing import Annotated

import msgspec
from phoenix_platform.settings import BaseSettings, HealthPort


class SchedulerSettings(BaseSettings, frozen=True, kw_only=True):
    health_port: HealthPort = 8083
    lease_ttl: Annotated[
        float,
        msgspec.Meta(
            ge=3, le=300, description="Seconds before a silent leader's lease passes to a replica"
        ),
    ] = 10.0
