"""Monitor family: the configuration of what to watch (owned by the config role)."""

from __future__ import annotations

from typing import ClassVar, Literal

import msgspec

from phoenix_contracts.base import Event, Message
from phoenix_contracts.sealed import Secrets, defaults_of

MONITOR = "monitor"

MonitorType = Literal["http", "keyword", "json", "tls", "tcp", "dns", "ping", "push"]
MonitorStatus = Literal["pending", "up", "degraded", "down", "maintenance", "paused"]
KeywordMode = Literal["contains", "not_contains"]
JsonOperator = Literal["==", "!=", "<", ">", "contains"]
DnsRecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"]


class MonitorSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What a monitor checks and how it judges the answer. Durations in seconds."""

    name: str
    type: MonitorType
    url: str = ""
    interval: int = 60
    timeout: float = 10.0
    method: str = "GET"
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    body: str | None = None
    accepted_status_codes: list[str] = msgspec.field(default_factory=lambda: ["200-299"])
    max_redirects: int = 10
    ignore_tls_errors: bool = False
    regions: list[str] = msgspec.field(default_factory=lambda: ["default"])
    failure_threshold: int = 3
    recovery_threshold: int = 2
    quorum: int = 1  # regions that must agree before the monitor is down
    degraded_after_ms: int | None = None  # slower successes than this are "degraded"
    retry_interval: int | None = None  # check this often (s) while a failure is unconfirmed
    cert_warning_days: list[int] = msgspec.field(default_factory=lambda: [30, 14, 7, 1])
    tag_ids: list[str] = msgspec.field(default_factory=list)
    # http-family options
    basic_auth_user: str | None = None
    basic_auth_password: str | None = None
    keyword: str = ""
    keyword_mode: KeywordMode = "contains"
    keyword_case_sensitive: bool = False
    json_path: str = ""
    json_operator: JsonOperator = "=="
    expected_value: str = ""
    # host-based checks (tcp, tls, dns, ping): ``hostname`` and ``port``
    hostname: str = ""
    port: int | None = None
    dns_record_type: DnsRecordType = "A"
    dns_resolver: str = ""
    expected_values: list[str] = msgspec.field(default_factory=list)
    # push (heartbeat) monitors: beats go to /api/v1/push/<push_token>; no beat
    # within interval + grace is a failed check
    push_token: str = ""
    grace: int = 30


# A monitor's secrets: ``basic_auth_password`` and every header whose name carries a
# credential (phoenix_contracts.sealed.is_secret_header). Sealed by the config role,
# opened by the executor; older events may hold them in clear and still work.
SECRET_FIELDS = frozenset({"basic_auth_password"})

# What decides where those secrets are sent: changing any of these makes a kept
# (masked) secret be sent again. ``headers``: its entries that are not secrets
# (a ``Host`` changes where the request lands); ``ignore_tls_errors`` and
# ``max_redirects`` let the request be read or led elsewhere.
DESTINATIONS = frozenset(
    {
        "type",
        "url",
        "hostname",
        "port",
        "headers",
        "basic_auth_user",
        "ignore_tls_errors",
        "max_redirects",
        "dns_resolver",
    }
)

# What a check asks for and how its answer is judged, never where the secrets go:
# these may change while the secrets are kept. A field in neither table (a new
# one) counts as a destination.
CONTENT = frozenset(
    {
        "name",
        "interval",
        "timeout",
        "method",
        "body",
        "accepted_status_codes",
        "regions",
        "failure_threshold",
        "recovery_threshold",
        "quorum",
        "degraded_after_ms",
        "retry_interval",
        "cert_warning_days",
        "tag_ids",
        "keyword",
        "keyword_mode",
        "keyword_case_sensitive",
        "json_path",
        "json_operator",
        "expected_value",
        "dns_record_type",
        "expected_values",
        "push_token",
        "grace",
    }
)

MONITOR_SECRETS = Secrets(
    fields=SECRET_FIELDS,
    header_maps=frozenset({"headers"}),
    free=CONTENT | SECRET_FIELDS,
    defaults=defaults_of(MonitorSpec),
)


def monitor_secret_context(organization_id: str, monitor_id: str, name: str) -> str:
    """What a sealed monitor secret is bound to (AES-GCM associated data): it opens
    for this monitor and this header or field only."""
    return f"monitor:{organization_id}:{monitor_id}:{name}"


class MonitorCreated(Event, frozen=True, kw_only=True, tag="monitor.created"):
    aggregate: ClassVar[str] = MONITOR
    spec: MonitorSpec


class MonitorUpdated(Event, frozen=True, kw_only=True, tag="monitor.updated"):
    aggregate: ClassVar[str] = MONITOR
    spec: MonitorSpec


class MonitorPaused(Event, frozen=True, kw_only=True, tag="monitor.paused"):
    aggregate: ClassVar[str] = MONITOR


class MonitorResumed(Event, frozen=True, kw_only=True, tag="monitor.resumed"):
    aggregate: ClassVar[str] = MONITOR


class MonitorDeleted(Event, frozen=True, kw_only=True, tag="monitor.deleted"):
    aggregate: ClassVar[str] = MONITOR


MonitorEvent = MonitorCreated | MonitorUpdated | MonitorPaused | MonitorResumed | MonitorDeleted


# --- commands (phx.cmd.monitor.<verb>) ---------------------------------------


class CreateMonitor(Message, frozen=True, kw_only=True, tag="create_monitor"):
    verb: ClassVar[str] = "create"
    organization_id: str
    spec: MonitorSpec
    correlation_id: str = ""


class UpdateMonitor(Message, frozen=True, kw_only=True, tag="update_monitor"):
    verb: ClassVar[str] = "update"
    organization_id: str
    monitor_id: str
    spec: MonitorSpec
    correlation_id: str = ""


class PauseMonitor(Message, frozen=True, kw_only=True, tag="pause_monitor"):
    verb: ClassVar[str] = "pause"
    organization_id: str
    monitor_id: str
    correlation_id: str = ""


class ResumeMonitor(Message, frozen=True, kw_only=True, tag="resume_monitor"):
    verb: ClassVar[str] = "resume"
    organization_id: str
    monitor_id: str
    correlation_id: str = ""


class DeleteMonitor(Message, frozen=True, kw_only=True, tag="delete_monitor"):
    verb: ClassVar[str] = "delete"
    organization_id: str
    monitor_id: str
    correlation_id: str = ""


MonitorCommand = CreateMonitor | UpdateMonitor | PauseMonitor | ResumeMonitor | DeleteMonitor
