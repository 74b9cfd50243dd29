from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from phoenix_platform.settings import (
    SECRET_FIELDS_WITH_KEY,
    HealthPort,
    OutboundSettings,
    SecretsKey,
)


class ExecutorSettings(OutboundSettings, frozen=True, kw_only=True):
    secret_fields: ClassVar[frozenset[str]] = SECRET_FIELDS_WITH_KEY

    health_port: HealthPort = 8084
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
    secrets_key: SecretsKey = ""
