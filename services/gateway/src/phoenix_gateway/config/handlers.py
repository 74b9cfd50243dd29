"""The config role: the one writer of monitor, channel, alert-rule, maintenance, tag and
status-page events.

It runs in the gateway process as its own module, reached only over NATS
(``<ns>.cmd.<aggregate>.<verb>``, queue group ``config``), so it can move to a
service of its own without changing a caller.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from phoenix_contracts.base import Accepted, Rejected
from phoenix_contracts.maintenance import CreateMaintenanceWindow, MaintenanceCommand
from phoenix_contracts.monitors import CreateMonitor, MonitorCommand
from phoenix_contracts.notifications import (
    AlertRuleCommand,
    ChannelCommand,
    CreateAlertRule,
    CreateChannel,
    UpdateChannel,
)
from phoenix_contracts.statuspages import CreateStatusPage, StatusPageCommand, UpdateStatusPage
from phoenix_contracts.tags import CreateTag, TagCommand
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.eventstore import EventStore

from phoenix_gateway.config import (
    channel_secrets,
    maintenance,
    monitor_secrets,
    monitors,
    notifications,
    statuspages,
    tags,
)
from phoenix_gateway.config.aggregate import execute

Reply = Accepted | Rejected


@dataclass(frozen=True)
class ConfigDeps:
    store: EventStore
    min_interval: int
    known_regions: frozenset[str]  # regions an executor serves; monitors may name only these
    # seals channel and monitor secrets; None: channels and monitors with secrets are refused
    secrets_key: bytes | None
    max_monitors: int  # per organization; 0 means no limit
    monitor_count_of: Callable[[str], Coroutine[Any, Any, int]]
    channel_ids_of: Callable[[str], Coroutine[Any, Any, frozenset[str]]]
    # the organization's tags: lower-cased name → tag id
    tag_names_of: Callable[[str], Coroutine[Any, Any, Mapping[str, str]]]
    # a slug → the page holding it, in any organization (slugs are global)
    status_page_slugs: Callable[[str], Coroutine[Any, Any, Mapping[str, str]]]
    monitor_ids_of: Callable[[str], Coroutine[Any, Any, frozenset[str]]]
    # per organization, 0 means no limit: the evaluator weighs windows on every result
    max_maintenance_windows: int
    window_count_of: Callable[[str], Coroutine[Any, Any, int]]


async def handle_monitor(cmd: MonitorCommand, deps: ConfigDeps) -> Reply:
    aggregate_id = uuid7() if isinstance(cmd, CreateMonitor) else cmd.monitor_id
    # Counted from the read model: creates racing each other may pass the
    # limit by the few in flight, which a quota can live with.
    count = (
        await deps.monitor_count_of(cmd.organization_id) if isinstance(cmd, CreateMonitor) else 0
    )
    ctx = monitors.Context(
        aggregate_id=aggregate_id,
        event_id=uuid7(),
        now=datetime.now(UTC),
        min_interval=deps.min_interval,
        known_regions=deps.known_regions,
        new_push_token=secrets.token_urlsafe(24),
        max_monitors=deps.max_monitors,
        monitor_count=count,
        secure=monitor_secrets.securer(cmd.organization_id, aggregate_id, deps.secrets_key),
    )
    return await execute(
        deps.store, monitors.MONITORS, aggregate_id, lambda s: monitors.decide(s, cmd, ctx)
    )


async def handle_maintenance(cmd: MaintenanceCommand, deps: ConfigDeps) -> Reply:
    creates = isinstance(cmd, CreateMaintenanceWindow)
    aggregate_id = uuid7() if isinstance(cmd, CreateMaintenanceWindow) else cmd.window_id
    # As for monitors: creates racing each other may pass the limit by the few in flight.
    count = await deps.window_count_of(cmd.organization_id) if creates else 0
    ctx = maintenance.Context(
        aggregate_id=aggregate_id,
        event_id=uuid7(),
        now=datetime.now(UTC),
        max_windows=deps.max_maintenance_windows,
        window_count=count,
    )
    return await execute(
        deps.store,
        maintenance.WINDOWS,
        aggregate_id,
        lambda s: maintenance.decide(s, cmd, ctx),
    )


async def handle_channel(cmd: ChannelCommand, deps: ConfigDeps) -> Reply:
    aggregate_id = uuid7() if isinstance(cmd, CreateChannel) else cmd.channel_id
    # As sent, kept secrets still sealed: each is bound to the stored config's destination.
    sent = cmd.spec if isinstance(cmd, CreateChannel | UpdateChannel) else None
    if isinstance(cmd, CreateChannel | UpdateChannel):
        plain = channel_secrets.opened(cmd.spec, cmd.organization_id, deps.secrets_key)
        if isinstance(plain, Rejected):
            return plain
        cmd = msgspec.structs.replace(cmd, spec=plain)
    ctx = notifications.Context(
        aggregate_id=aggregate_id,
        event_id=uuid7(),
        now=datetime.now(UTC),
        seal=channel_secrets.sealer(cmd.organization_id, deps.secrets_key),
        moved_secret=lambda stored: channel_secrets.moved_secret(sent, stored) if sent else None,
    )
    return await execute(
        deps.store,
        notifications.CHANNELS,
        aggregate_id,
        lambda s: notifications.decide_channel(s, cmd, ctx),
    )


async def handle_alert_rule(cmd: AlertRuleCommand, deps: ConfigDeps) -> Reply:
    aggregate_id = uuid7() if isinstance(cmd, CreateAlertRule) else cmd.alert_rule_id
    known = await deps.channel_ids_of(cmd.organization_id)
    ctx = notifications.Context(
        aggregate_id=aggregate_id, event_id=uuid7(), now=datetime.now(UTC), known_channel_ids=known
    )
    return await execute(
        deps.store,
        notifications.ALERT_RULES,
        aggregate_id,
        lambda s: notifications.decide_alert_rule(s, cmd, ctx),
    )


async def handle_tag(cmd: TagCommand, deps: ConfigDeps) -> Reply:
    aggregate_id = uuid7() if isinstance(cmd, CreateTag) else cmd.tag_id
    taken = await deps.tag_names_of(cmd.organization_id)
    ctx = tags.Context(
        aggregate_id=aggregate_id, event_id=uuid7(), now=datetime.now(UTC), taken_names=taken
    )
    return await execute(deps.store, tags.TAGS, aggregate_id, lambda s: tags.decide(s, cmd, ctx))


async def handle_status_page(cmd: StatusPageCommand, deps: ConfigDeps) -> Reply:
    aggregate_id = uuid7() if isinstance(cmd, CreateStatusPage) else cmd.status_page_id
    slug = cmd.spec.slug if isinstance(cmd, CreateStatusPage | UpdateStatusPage) else None
    ctx = statuspages.Context(
        aggregate_id=aggregate_id,
        event_id=uuid7(),
        now=datetime.now(UTC),
        taken_slugs=await deps.status_page_slugs(slug) if slug is not None else {},
        monitor_ids=await deps.monitor_ids_of(cmd.organization_id),
    )
    return await execute(
        deps.store,
        statuspages.STATUS_PAGES,
        aggregate_id,
        lambda s: statuspages.decide(s, cmd, ctx),
    )
