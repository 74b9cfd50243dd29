from __future__ import annotations

import re
from typing import Annotated, ClassVar

import msgspec
from phoenix_platform.netguard import parse_networks
from phoenix_platform.settings import (
    SECRET_FIELDS_WITH_KEY,
    BaseSettings,
    HealthPort,
    SecretsKey,
)

REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")  # as an executor's PHOENIX_REGION


class GatewaySettings(BaseSettings, frozen=True, kw_only=True):
    secret_fields: ClassVar[frozenset[str]] = SECRET_FIELDS_WITH_KEY

    def __post_init__(self) -> None:
        try:
            parse_networks(self.trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"PHOENIX_TRUSTED_PROXIES: {exc}") from None
        if not self.region_names or not all(REGION.fullmatch(r) for r in self.region_names):
            raise ValueError("PHOENIX_REGIONS: comma-separated names like eu-west (a-z, 0-9, -)")

    @property
    def region_names(self) -> frozenset[str]:
        return frozenset(r.strip() for r in self.regions.split(",") if r.strip())

    # /metrics lives here, never on the public API port (probes use the API port)
    health_port: HealthPort = 8087
    gateway_host: Annotated[str, msgspec.Meta(description="Address the HTTP API listens on")] = (
        "127.0.0.1"
    )
    gateway_port: Annotated[
        int, msgspec.Meta(ge=0, le=65535, description="Port of the HTTP API (and its probes)")
    ] = 8080
    regions: Annotated[
        str,
        msgspec.Meta(
            description="Regions executors serve (their PHOENIX_REGION), comma-separated;"
            " monitors may name only these"
        ),
    ] = "default"
    min_interval: Annotated[
        int, msgspec.Meta(ge=1, le=86400, description="Shortest monitor interval allowed, seconds")
    ] = 20
    max_monitors: Annotated[
        int,
        msgspec.Meta(ge=0, description="Most monitors one organization may have (0: no limit)"),
    ] = 1000
    max_maintenance_windows: Annotated[
        int,
        msgspec.Meta(
            ge=0, description="Most maintenance windows one organization may have (0: no limit)"
        ),
    ] = 100
    cookie_secure: Annotated[
        bool,
        msgspec.Meta(
            description="Mark the session cookie Secure (phoenix dev turns it off: plain http)"
        ),
    ] = True
    max_body_bytes: Annotated[
        int, msgspec.Meta(ge=1024, description="Largest request body accepted, bytes")
    ] = 1_048_576
    trusted_proxies: Annotated[
        str,
        msgspec.Meta(description="CIDRs of reverse proxies whose X-Forwarded-For is believed"),
    ] = ""
    command_timeout: Annotated[
        float, msgspec.Meta(gt=0, description="Seconds to wait for a command's owner to answer")
    ] = 10.0
    results_retention_days: Annotated[
        int,
        msgspec.Meta(ge=1, le=3650, description="Days raw check results are kept (whole days)"),
    ] = 30
    secrets_key: SecretsKey = ""
