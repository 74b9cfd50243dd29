"""The status-page aggregate: pure decide/evolve, no I/O.

A slug is unique across the installation (it is the page's public address);
the slugs taken and the organization's monitors come from the read model,
passed in by the caller. Like tag names, a slug is checked against the read
model, not reserved atomically: two pages created with one slug in the same
instant could both pass (the public address then serves the older one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.statuspages import (
    MAX_REFRESH,
    MAX_WEIGHT,
    MIN_REFRESH,
    STATUS_PAGE,
    CreateStatusPage,
    DeleteStatusPage,
    SetStatusPageMonitors,
    StatusPageCommand,
    StatusPageCreated,
    StatusPageDeleted,
    StatusPageMonitor,
    StatusPageMonitorsSet,
    StatusPageSpec,
    StatusPageUpdated,
    UpdateStatusPage,
)

from phoenix_gateway.config.aggregate import Aggregate, next_envelope

SLUG = re.compile(r"^[a-z0-9-]{3,64}$")
THEMES = ("light", "dark", "auto")
MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_FOOTER = 500
MAX_MONITORS = 100
# Only a hash may enter the log: anything else is refused as a bug, not stored.
HASH_PREFIXES = ("$scrypt$", "$argon2id$")


@dataclass(frozen=True)
class StatusPageState:
    exists: bool = False
    deleted: bool = False
    organization_id: str = ""
    spec: StatusPageSpec | None = None
    version: int = 0


def evolve(state: StatusPageState, event: Event) -> StatusPageState:
    match event:
        case StatusPageCreated():
            return StatusPageState(
                True, False, event.organization_id, event.spec, event.aggregate_version
            )
        case StatusPageUpdated():
            return replace(state, spec=event.spec, version=event.aggregate_version)
        case StatusPageMonitorsSet() if state.spec is not None:
            spec = replace_monitors(state.spec, event.monitors)
            return replace(state, spec=spec, version=event.aggregate_version)
        case StatusPageDeleted():
            return replace(state, deleted=True, version=event.aggregate_version)
    return state


def replace_monitors(spec: StatusPageSpec, monitors: list[StatusPageMonitor]) -> StatusPageSpec:
    return StatusPageSpec(
        **{f: getattr(spec, f) for f in StatusPageSpec.__struct_fields__ if f != "monitors"},
        monitors=monitors,
    )


STATUS_PAGES = Aggregate(name=STATUS_PAGE, initial=StatusPageState(), evolve=evolve)


@dataclass(frozen=True)
class Context:
    aggregate_id: str
    event_id: str
    now: datetime
    taken_slugs: Mapping[str, str] = field(default_factory=dict)  # slug → page id
    monitor_ids: frozenset[str] = frozenset()  # the organization's monitors


def _invalid(field_name: str, message: str) -> Rejected:
    return Rejected(code="invalid", field=field_name, message=message)


def _allowed_monitors(state: StatusPageState, ctx: Context) -> frozenset[str]:
    """The organization's monitors, and those already on the page: a monitor deleted
    since it was listed must not block every later edit (the public page hides it)."""
    listed = {m.monitor_id for m in state.spec.monitors} if state.spec is not None else set()
    return ctx.monitor_ids | listed


def validate_spec(spec: StatusPageSpec, ctx: Context, known: frozenset[str]) -> Rejected | None:
    problem = None
    if not SLUG.match(spec.slug):
        problem = _invalid("slug", "3 to 64 characters: lower-case letters, digits and -")
    elif not spec.name.strip() or len(spec.name) > MAX_NAME:
        problem = _invalid("name", f"1 to {MAX_NAME} characters")
    elif len(spec.description) > MAX_DESCRIPTION:
        problem = _invalid("description", f"at most {MAX_DESCRIPTION} characters")
    elif len(spec.footer_text) > MAX_FOOTER:
        problem = _invalid("footer_text", f"at most {MAX_FOOTER} characters")
    elif spec.theme not in THEMES:
        problem = _invalid("theme", "light, dark or auto")
    elif spec.auto_refresh_interval != 0 and not (
        MIN_REFRESH <= spec.auto_refresh_interval <= MAX_REFRESH
    ):
        problem = _invalid("auto_refresh_interval", f"0 (off) or {MIN_REFRESH} to {MAX_REFRESH}")
    if problem is not None:
        return problem
    owner = ctx.taken_slugs.get(spec.slug)
    if owner is not None and owner != ctx.aggregate_id:
        return Rejected(code="conflict", field="slug", message=f"the slug {spec.slug!r} is taken")
    return validate_monitors(spec.monitors, known)


def validate_monitors(monitors: list[StatusPageMonitor], known: frozenset[str]) -> Rejected | None:
    if len(monitors) > MAX_MONITORS:
        return _invalid("monitors", f"at most {MAX_MONITORS} monitors")
    ids = [m.monitor_id for m in monitors]
    if len(set(ids)) != len(ids):
        return _invalid("monitors", "a monitor is listed twice")
    unknown = [i for i in ids if i not in known]
    if unknown:
        return _invalid("monitors", f"not a monitor of this organization: {', '.join(unknown)}")
    for monitor in monitors:
        if len(monitor.display_name) > MAX_NAME:
            return _invalid("monitors", f"display_name: at most {MAX_NAME} characters")
        if abs(monitor.weight) > MAX_WEIGHT:
            return _invalid("monitors", f"weight: between -{MAX_WEIGHT} and {MAX_WEIGHT}")
    return None


def _password_problem(password_hash: str | None) -> Rejected | None:
    if password_hash and not password_hash.startswith(HASH_PREFIXES):
        return _invalid("password", "only a password hash may be stored")
    return None


def decide(state: StatusPageState, cmd: StatusPageCommand, ctx: Context) -> list[Event] | Rejected:
    if not isinstance(cmd, CreateStatusPage) and (
        not state.exists or state.deleted or state.organization_id != cmd.organization_id
    ):
        return Rejected(code="not_found", message="status page not found")
    env = next_envelope(state.version, cmd, ctx)
    known = _allowed_monitors(state, ctx)
    match cmd:
        case CreateStatusPage(spec=spec, password_hash=password_hash):
            problem = validate_spec(spec, ctx, known) or _password_problem(password_hash)
            if problem is not None:
                return problem
            return [StatusPageCreated(spec=spec, password_hash=password_hash, **env)]
        case UpdateStatusPage(spec=spec, password_hash=password_hash):
            problem = validate_spec(spec, ctx, known) or _password_problem(password_hash)
            if problem is not None:
                return problem
            return [StatusPageUpdated(spec=spec, password_hash=password_hash, **env)]
        case SetStatusPageMonitors(monitors=monitors):
            problem = validate_monitors(monitors, known)
            if problem is not None:
                return problem
            return [StatusPageMonitorsSet(monitors=monitors, **env)]
        case DeleteStatusPage():
            return [StatusPageDeleted(**env)]
    return Rejected(code="invalid", message="unknown command")
