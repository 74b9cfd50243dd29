"""Channel and alert-rule aggregates: pure decide/evolve, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.channels import config_problem
from phoenix_contracts.notifications import (
    ALERT_RULE,
    CHANNEL,
    MAX_RESEND_INTERVAL,
    AlertRuleCommand,
    AlertRuleCreated,
    AlertRuleDeleted,
    AlertRuleSpec,
    AlertRuleUpdated,
    ChannelCommand,
    ChannelCreated,
    ChannelDeleted,
    ChannelSpec,
    ChannelUpdated,
    CreateAlertRule,
    CreateChannel,
    UpdateAlertRule,
    UpdateChannel,
)

from phoenix_gateway.config.aggregate import Aggregate, next_envelope


@dataclass(frozen=True)
class Owned:
    """State shared by both aggregates: who owns it and whether it still exists."""

    exists: bool = False
    deleted: bool = False
    organization_id: str = ""
    version: int = 0
    kind: str = ""  # a channel's type
    config: Mapping[str, Any] = field(default_factory=dict)  # a channel's, secrets sealed


def evolve(state: Owned, event: Event) -> Owned:
    if isinstance(event, ChannelCreated):
        return Owned(
            exists=True,
            organization_id=event.organization_id,
            version=1,
            kind=event.spec.type,
            config=event.spec.config,
        )
    if isinstance(event, AlertRuleCreated):
        return Owned(exists=True, organization_id=event.organization_id, version=1)
    if isinstance(event, ChannelDeleted | AlertRuleDeleted):
        return replace(state, deleted=True, version=event.aggregate_version)
    if isinstance(event, ChannelUpdated):
        return replace(state, version=event.aggregate_version, config=event.spec.config)
    if isinstance(event, AlertRuleUpdated):
        return replace(state, version=event.aggregate_version)
    return state


CHANNELS = Aggregate(name=CHANNEL, initial=Owned(), evolve=evolve)
ALERT_RULES = Aggregate(name=ALERT_RULE, initial=Owned(), evolve=evolve)


@dataclass(frozen=True)
class Context:
    aggregate_id: str
    event_id: str
    now: datetime
    known_channel_ids: frozenset[str] = frozenset()  # the caller's organization's channels
    # Seals a valid spec's secret fields before it goes into an event.
    seal: Callable[[ChannelSpec], ChannelSpec] = lambda spec: spec
    # Why the spec as sent may not replace a channel's stored config (a kept
    # secret sent somewhere else), or None: channel_secrets.moved_secret.
    moved_secret: Callable[[Mapping[str, Any]], Rejected | None] = lambda stored: None


def validate_channel(spec: ChannelSpec) -> Rejected | None:
    """The config as its channel type defines it (phoenix_contracts.channels), secrets in clear."""
    if (problem := config_problem(spec.type, spec.config)) is not None:
        field, message = problem
        return Rejected(code="invalid", field=field, message=message)
    return None


def decide_channel(state: Owned, cmd: ChannelCommand, ctx: Context) -> list[Event] | Rejected:
    if isinstance(cmd, CreateChannel):
        if (problem := ctx.moved_secret({}) or validate_channel(cmd.spec)) is not None:
            return problem
        return [ChannelCreated(spec=ctx.seal(cmd.spec), **next_envelope(state.version, cmd, ctx))]
    if not _visible(state, cmd.organization_id):
        return Rejected(code="not_found", message="notification channel not found")
    if isinstance(cmd, UpdateChannel):
        if cmd.spec.type != state.kind:
            return Rejected(
                code="invalid",
                field="type",
                message="a channel's type cannot change; create a new channel",
            )
        if (problem := ctx.moved_secret(state.config) or validate_channel(cmd.spec)) is not None:
            return problem
        return [ChannelUpdated(spec=ctx.seal(cmd.spec), **next_envelope(state.version, cmd, ctx))]
    return [ChannelDeleted(**next_envelope(state.version, cmd, ctx))]


def validate_alert_rule(spec: AlertRuleSpec, ctx: Context) -> Rejected | None:
    if not spec.notification_channel_ids:
        return Rejected(
            code="invalid", field="notification_channel_ids", message="name at least one channel"
        )
    unknown = [c for c in spec.notification_channel_ids if c not in ctx.known_channel_ids]
    if unknown:
        return Rejected(
            code="invalid",
            field="notification_channel_ids",
            message=f"unknown channel(s): {', '.join(unknown)}",
        )
    if spec.scope == "monitors" and not spec.monitor_ids:
        return Rejected(
            code="invalid", field="monitor_ids", message="scope 'monitors' needs monitor_ids"
        )
    if spec.scope == "tags" and not spec.tag_ids:
        return Rejected(code="invalid", field="tag_ids", message="scope 'tags' needs tag_ids")
    if not 0 <= spec.resend_interval_seconds <= MAX_RESEND_INTERVAL:
        return Rejected(
            code="invalid",
            field="resend_interval_seconds",
            message=f"0 (no reminders) to {MAX_RESEND_INTERVAL} seconds",
        )
    return None


def decide_alert_rule(state: Owned, cmd: AlertRuleCommand, ctx: Context) -> list[Event] | Rejected:
    if isinstance(cmd, CreateAlertRule):
        if (problem := validate_alert_rule(cmd.spec, ctx)) is not None:
            return problem
        return [AlertRuleCreated(spec=cmd.spec, **next_envelope(state.version, cmd, ctx))]
    if not _visible(state, cmd.organization_id):
        return Rejected(code="not_found", message="alert rule not found")
    if isinstance(cmd, UpdateAlertRule):
        if (problem := validate_alert_rule(cmd.spec, ctx)) is not None:
            return problem
        return [AlertRuleUpdated(spec=cmd.spec, **next_envelope(state.version, cmd, ctx))]
    return [AlertRuleDeleted(**next_envelope(state.version, cmd, ctx))]


def _visible(state: Owned, organization_id: str) -> bool:
    return state.exists and not state.deleted and state.organization_id == organization_id
