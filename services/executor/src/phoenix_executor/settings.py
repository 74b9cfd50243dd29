from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from phoenix_contracts.urls import parse_resolver
from phoenix_platform.settings import (
    SECRET_FIELDS_WITH_KEY,
    HealthPort,
    OutboundSettings,
    SecretsKey,
)


class ExecutorSettings(OutboundSettings, frozen=True, kw_only=True):
    secret_fields: ClassVar[frozenset[str]] = SECRET_FIELDS_WITH_KEY

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dns_check_resolver:
            try:
                parse_resolver(self.dns_check_resolver)
            except ValueError:
                raise ValueError(
                    f"PHOENIX_DNS_CHECK_RESOLVER: not an IP[:port]: {self.dns_check_resolver!r}"
                ) from None

    health_port: HealthPort = 8084
    region: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[a-z0-9][a-z0-9-]{0,31}$",
            description="Region whose checks this executor runs",
        ),
    ] = "default"
    dns_check_resolver: Annotated[
        str,
        msgspec.Meta(
            description="Resolver (IP[:port]) that dns checks naming none ask; empty: the"
            " system's. Set a public one on split-horizon networks (not guarded: yours)",
        ),
    ] = ""
    concurrency: Annotated[
        int, msgspec.Meta(ge=1, le=10_000, description="Checks run at the same time")
    ] = 100
    secrets_key: SecretsKey = ""
