"""The monitor aggregate: pure decide/evolve, no I/O."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

import msgspec
from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.monitors import (
    MONITOR,
    CreateMonitor,
    DeleteMonitor,
    MonitorCommand,
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorSpec,
    MonitorUpdated,
    PauseMonitor,
    ResumeMonitor,
    UpdateMonitor,
)
from phoenix_contracts.urls import parse_resolver, url_problem

from phoenix_gateway.config.aggregate import Aggregate, next_envelope

# Every header a check sends, names and values together: what a web server
# accepts in one request (and what one check job may carry per region).
MAX_HEADER_BYTES = 16_384
# The whole spec travels in every check job: the HTTP API's field bounds keep it
# far below this, a command sent straight over NATS is held to it here.
MAX_SPEC_BYTES = 131_072


@dataclass(frozen=True)
class MonitorState:
    exists: bool = False
    deleted: bool = False
    organization_id: str = ""
    paused: bool = False
    version: int = 0
    spec: MonitorSpec | None = None


def evolve(state: MonitorState, event: Event) -> MonitorState:
    version = event.aggregate_version
    match event:
        case MonitorCreated(spec=spec):
            return MonitorState(
                exists=True, organization_id=event.organization_id, version=version, spec=spec
            )
        case MonitorUpdated(spec=spec):
            return replace(state, spec=spec, version=version)
        case MonitorPaused():
            return replace(state, paused=True, version=version)
        case MonitorResumed():
            return replace(state, paused=False, version=version)
        case MonitorDeleted():
            return replace(state, deleted=True, version=version)
    return state


MONITORS = Aggregate(name=MONITOR, initial=MonitorState(), evolve=evolve)


@dataclass(frozen=True)
class Context:
    aggregate_id: str
    event_id: str
    now: datetime
    min_interval: int
    # Regions an executor serves (PHOENIX_REGIONS): a job for any other would never run.
    known_regions: frozenset[str] = frozenset({"default"})
    new_push_token: str = ""  # used if the command creates a push monitor
    # The organization's quota (0: none) and how many monitors it has now.
    max_monitors: int = 0
    monitor_count: int = 0
    # (stored spec or None, spec as sent) → the spec with its secrets sealed, or why
    # a kept secret may not go where the spec now points: monitor_secrets.securer.
    secure: Callable[[MonitorSpec | None, MonitorSpec], MonitorSpec | Rejected] = (
        lambda stored, spec: spec
    )


def validate_spec(spec: MonitorSpec, ctx: Context) -> Rejected | None:
    if spec.interval < ctx.min_interval:
        return _invalid("interval", f"must be at least {ctx.min_interval} seconds")
    if spec.timeout >= spec.interval:
        return _invalid("timeout", "must be shorter than the interval")
    if (rejected := _check_url(spec)) is not None:
        return rejected
    if (rejected := _check_fan_out(spec, ctx.known_regions)) is not None:
        return rejected
    if (rejected := _check_type_fields(spec)) is not None:
        return rejected
    for code in spec.accepted_status_codes:
        if not _is_status_range(code):
            return _invalid("accepted_status_codes", f"{code!r} is not a status code or range")
    if spec.failure_threshold < 1:
        return _invalid("failure_threshold", "must be at least 1")
    if spec.recovery_threshold < 1:
        return _invalid("recovery_threshold", "must be at least 1")
    return None


def _check_type_fields(spec: MonitorSpec) -> Rejected | None:
    """What each check type needs beyond the common fields."""
    if spec.type == "keyword" and not spec.keyword:
        return _invalid("keyword", "a keyword monitor needs the text to look for")
    if spec.type == "json" and not spec.json_path:
        return _invalid("json_path", "a json monitor needs a path such as $.status")
    tls_by_url = spec.type == "tls" and spec.url.startswith("https://")
    if (
        spec.type in ("tcp", "tls", "dns", "ping")
        and not tls_by_url
        and not _is_hostname(spec.hostname)
    ):
        return _invalid("hostname", f"a {spec.type} monitor needs a host name or address")
    if spec.type == "tcp" and spec.port is None:
        return _invalid("port", "a tcp monitor needs a port")
    if spec.dns_resolver:
        try:
            parse_resolver(spec.dns_resolver)  # as the executor will read it
        except ValueError as exc:
            return _invalid("dns_resolver", str(exc))
    if spec.quorum > len(spec.regions):
        return _invalid("quorum", "cannot exceed the number of regions")
    if spec.retry_interval is not None and spec.retry_interval >= spec.interval:
        return _invalid("retry_interval", "must be shorter than the interval")
    return None


def _check_url(spec: MonitorSpec) -> Rejected | None:
    """The URL is read once, here, fully: a check never meets one it cannot parse."""
    tls_by_url = spec.type == "tls" and spec.url.startswith("https://")  # as checks/tls.py
    if spec.type not in ("http", "keyword", "json") and not tls_by_url:
        return None
    schemes = ("https",) if spec.type == "tls" else ("http", "https")
    if problem := url_problem(spec.url, schemes):
        return _invalid("url", problem)
    parts = urlsplit(spec.url)  # parses: url_problem said so
    if parts.username is not None or parts.password is not None:
        return _invalid("url", "credentials in the URL are not allowed: use basic auth fields")
    return None


def _check_fan_out(spec: MonitorSpec, known_regions: frozenset[str]) -> Rejected | None:
    """Each region is one job per interval, each job carries every header: both bounded."""
    for region in spec.regions:
        if region not in known_regions:
            known = ", ".join(sorted(known_regions))
            return _invalid("regions", f"unknown region {region[:40]!r}; known: {known}")
    if not spec.regions or len(set(spec.regions)) != len(spec.regions):
        return _invalid("regions", "name at least one region, each once")
    size = sum(len(k.encode()) + len(v.encode()) for k, v in spec.headers.items())
    if size > MAX_HEADER_BYTES:
        return _invalid("headers", f"at most {MAX_HEADER_BYTES} bytes of names and values")
    sizes = {
        name: len(msgspec.json.encode(value))
        for name, value in msgspec.structs.asdict(spec).items()
    }
    if sum(sizes.values()) > MAX_SPEC_BYTES:
        largest = max(sizes, key=sizes.__getitem__)
        return _invalid(
            largest, f"the monitor is over {MAX_SPEC_BYTES} bytes; this is its largest field"
        )
    return None


def _is_hostname(host: str) -> bool:
    if _is_address(host):
        return True
    labels = host.rstrip(".").split(".")
    return bool(host) and all(
        0 < len(label) <= 63 and label.replace("-", "").isalnum() for label in labels
    )


def _is_address(value: str) -> bool:
    host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not port or (port.isdigit() and 1 <= int(port) <= 65535)


def _is_status_range(code: str) -> bool:
    low, _, high = code.partition("-")
    if not low.isdigit() or not (high or low).isdigit():
        return False
    return 100 <= int(low) <= int(high or low) <= 599


def _invalid(field: str, message: str) -> Rejected:
    return Rejected(code="invalid", field=field, message=message)


NOT_FOUND = Rejected(code="not_found", message="monitor not found")


def decide(state: MonitorState, cmd: MonitorCommand, ctx: Context) -> list[Event] | Rejected:
    if isinstance(cmd, CreateMonitor):
        if state.exists:
            return Rejected(code="conflict", message="monitor exists")
        if (problem := validate_spec(cmd.spec, ctx)) is not None:
            return problem
        if ctx.max_monitors and ctx.monitor_count >= ctx.max_monitors:
            return Rejected(
                code="quota",
                message=f"this organization has reached its limit of {ctx.max_monitors} monitors;"
                " delete one first, or ask the operator to raise PHOENIX_MAX_MONITORS",
            )
        secured = ctx.secure(None, cmd.spec)
        if isinstance(secured, Rejected):
            return secured
        # The push token is ours to choose, never the caller's: it is the beat's only credential.
        token = ctx.new_push_token if cmd.spec.type == "push" else ""
        spec = msgspec.structs.replace(secured, push_token=token)
        return [MonitorCreated(spec=spec, **next_envelope(state.version, cmd, ctx))]
    if not state.exists or state.deleted or state.organization_id != cmd.organization_id:
        return NOT_FOUND  # another organization's monitor is indistinguishable from none
    env = next_envelope(state.version, cmd, ctx)
    match cmd:
        case UpdateMonitor(spec=spec):
            if (problem := validate_spec(spec, ctx)) is not None:
                return problem
            if spec.type != (state.spec.type if state.spec else spec.type):
                return _invalid("type", "a monitor's type cannot change; create a new monitor")
            kept = state.spec.push_token if state.spec else ""
            secured = ctx.secure(state.spec, msgspec.structs.replace(spec, push_token=kept))
            if isinstance(secured, Rejected):
                return secured
            spec = secured
            return [MonitorUpdated(spec=spec, **env)]
        case PauseMonitor():
            return [] if state.paused else [MonitorPaused(**env)]
        case ResumeMonitor():
            return [MonitorResumed(**env)] if state.paused else []
        case DeleteMonitor():
            return [MonitorDeleted(**env)]
    return Rejected(code="invalid", message="unknown command")
