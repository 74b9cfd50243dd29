"""Typed settings from ``PHOENIX_*`` environment variables.

Each service declares one frozen msgspec Struct; every field has a default and
a one-line description (``Annotated[..., Meta(description=...)]``). A bad value
stops the service with one line naming the variable. A field listed in
``secret_fields`` may instead be read from the file named by ``<VAR>_FILE``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar, get_type_hints

import msgspec

PREFIX = "PHOENIX_"

S = TypeVar("S", bound="BaseSettings")


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable."""


def env_name(field: str) -> str:
    return PREFIX + field.upper()


HealthPort = Annotated[
    int,
    msgspec.Meta(ge=0, le=65535, description="Port of /healthz, /readyz, /metrics (0 = any free)"),
]

LeaseTtl = Annotated[
    float,
    msgspec.Meta(
        ge=3,
        le=300,
        description="Seconds before a silent replica's lease (scheduling, result partitions)"
        " passes to another",
    ),
]


class BaseSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Settings every service shares."""

    # URLs may carry credentials: each may come from a file (<VAR>_FILE).
    secret_fields: ClassVar[frozenset[str]] = frozenset({"nats_url", "database_url", "redis_url"})

    nats_url: Annotated[
        str, msgspec.Meta(description="NATS server URL(s), comma-separated for a cluster")
    ] = "nats://127.0.0.1:4222"
    database_url: Annotated[
        str, msgspec.Meta(description="PostgreSQL URL (postgresql://user:pass@host:port/db)")
    ] = "postgresql://postgres@127.0.0.1:5432/phoenix"
    redis_url: Annotated[str, msgspec.Meta(description="Redis URL")] = "redis://127.0.0.1:6379/0"
    namespace: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[a-z][a-z0-9_-]{0,30}$",
            description="Prefix of every subject, stream and consumer; isolates stacks on one NATS",
        ),
    ] = "phx"
    log_format: Annotated[
        str, msgspec.Meta(pattern="^(json|console)$", description="Log output: json or console")
    ] = "json"
    log_level: Annotated[
        str,
        msgspec.Meta(pattern="^(debug|info|warning|error)$", description="Minimum log level"),
    ] = "info"
    health_port: HealthPort = 8081
    health_host: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            description="Address the health port listens on; 0.0.0.0 in containers, for probes",
        ),
    ] = "127.0.0.1"
    max_deliver: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=100,
            description="Deliveries of a failing message before it is dead-lettered"
            " (an outage of the database or NATS is waited out and never counts)",
        ),
    ] = 5
    db_statement_timeout: Annotated[
        float,
        msgspec.Meta(
            ge=0,
            le=3600,
            description="Seconds a database statement may run before PostgreSQL cancels it"
            " (0: no limit); a transaction may sit idle twice as long, at least 60 s",
        ),
    ] = 30.0
    projection_stall_seconds: Annotated[
        float,
        msgspec.Meta(
            ge=1,
            le=3600,
            description="Seconds a projection may have events to apply without applying any"
            " before /readyz says not ready",
        ),
    ] = 30.0
    stream_replicas: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=5,
            description="Copies NATS keeps of each stream (3 on a 3-server cluster; 1 alone)",
        ),
    ] = 1
    # Every service provisions the streams at start: give them all the same values.
    # NATS reserves a stream's max_bytes on its disk when the stream is made, so the
    # defaults stay small enough for a laptop (about 1.8 GiB for the four streams).
    work_stream_max_mb: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            description="MiB each work queue (CHECKS, NOTIFY) may hold; when full, new jobs"
            " are refused, queued ones kept",
        ),
    ] = 256
    results_stream_max_mb: Annotated[
        int,
        msgspec.Meta(ge=1, description="MiB the RESULTS stream may hold (oldest dropped first)"),
    ] = 1024
    dead_letter_stream_max_mb: Annotated[
        int,
        msgspec.Meta(ge=1, description="MiB the DLQ stream may hold (oldest dropped first)"),
    ] = 256
    max_message_kb: Annotated[
        int,
        msgspec.Meta(
            ge=64,
            le=8192,
            description="KiB of the largest event, check job or result a stream takes; the"
            " scheduler skips (logs and counts) a larger job. At most NATS's max_payload",
        ),
    ] = 512


def load(cls: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Build ``cls`` from the environment; raise :class:`SettingsError` naming the variable."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(cls):
        name = env_name(field.name)
        value = _read(name, env, secret=field.name in cls.secret_fields)
        if value is not None:
            raw[field.name] = value
    hints = get_type_hints(cls, include_extras=True)
    for key, value in raw.items():
        try:
            msgspec.convert(value, hints[key], strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(f"{env_name(key)}: {exc} (got {_shown(key, value, cls)})") from None
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:  # cross-field problems
        raise SettingsError(str(exc)) from None


def _read(name: str, env: Mapping[str, str], *, secret: bool) -> str | None:
    if secret and (path := env.get(name + "_FILE")):
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return env.get(name)


def _shown(field: str, value: str, cls: type[BaseSettings]) -> str:
    return "<secret>" if field in cls.secret_fields else repr(value)


def describe(cls: type[BaseSettings]) -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting: the configuration table."""
    hints = get_type_hints(cls, include_extras=True)
    rows = []
    for field in msgspec.structs.fields(cls):
        description = ""
        for meta in getattr(hints[field.name], "__metadata__", ()):
            if isinstance(meta, msgspec.Meta) and meta.description:
                description = meta.description
        default = field.default if field.default is not msgspec.NODEFAULT else ""
        rows.append((env_name(field.name), str(default), description))
    return rows


class OutboundSettings(BaseSettings, frozen=True, kw_only=True):
    """Settings of services that make requests to user-supplied addresses."""

    allow_private_targets: Annotated[
        str,
        msgspec.Meta(
            description="Comma-separated CIDRs that checks may reach despite the SSRF guard"
        ),
    ] = ""

    def __post_init__(self) -> None:
        from phoenix_platform.netguard import parse_networks

        try:
            parse_networks(self.allow_private_targets)
        except ValueError as exc:
            raise ValueError(f"PHOENIX_ALLOW_PRIVATE_TARGETS: {exc}") from None


# The key that seals secrets kept in events: auth seals two-factor seeds, the
# gateway seals channel credentials the notifier opens and monitor credentials
# the executor opens, so all four share it.
SECRET_FIELDS_WITH_KEY = BaseSettings.secret_fields | {"secrets_key"}
SecretsKey = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^([A-Za-z0-9_+/-]{43}=?)?$",
        description="Base64 of 32 random bytes, the same for auth, gateway, notifier and"
        " executor; encrypts two-factor seeds, channel credentials and monitor credentials"
        " (AES-256-GCM). Empty: those features are refused (phoenix dev makes one)",
    ),
]


def secrets_key_bytes(key: str) -> bytes | None:
    from phoenix_platform.sealing import parse_key

    return parse_key(key) if key else None
