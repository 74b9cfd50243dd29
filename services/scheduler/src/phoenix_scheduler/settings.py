from __future__ import annotations

from typing import Annotated

import msgspec
from phoenix_platform.settings import BaseSettings


class SchedulerSettings(BaseSettings, frozen=True, kw_only=True):
    health_port: Annotated[
        int, msgspec.Meta(ge=0, le=65535, description="Port of /healthz and /readyz (0 = any)")
    ] = 8083
