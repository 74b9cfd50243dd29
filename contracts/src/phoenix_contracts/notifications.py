"""Notification family: channels, alert rules, delivery jobs and deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

import msgspec

from phoenix_contracts.base import Event, Message
from phoenix_contracts.channels import ChannelType

CHANNEL = "channel"
ALERT_RULE = "alertrule"
DELIVERY = "delivery"

# "test" is only ever sent by POST /notification-channels/{id}/test, never by a rule.
AlertEvent = Literal["down", "recovered", "degraded", "certificate_expiring", "flapping", "test"]
AlertScope = Literal["all", "tags", "monitors"]
# Reminders of a down monitor at most this far apart: the notifier adds the interval
# to a moment and stores it in an int4 column, so an unbounded one overflows both.
MAX_RESEND_INTERVAL = 7 * 86_400


class ChannelSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: ChannelType
    # Shaped by phoenix_contracts.channels.CONFIGS[type]; secret fields sealed.
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    is_default: bool = False


class ChannelCreated(Event, frozen=True, kw_only=True, tag="channel.created"):
    aggregate: ClassVar[str] = CHANNEL
    spec: ChannelSpec


class ChannelUpdated(Event, frozen=True, kw_only=True, tag="channel.updated"):
    """The whole new spec (the type never changes)."""

    aggregate: ClassVar[str] = CHANNEL
    spec: ChannelSpec


class ChannelDeleted(Event, frozen=True, kw_only=True, tag="channel.deleted"):
    aggregate: ClassVar[str] = CHANNEL


class AlertRuleSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    event: AlertEvent
    scope: AlertScope = "all"
    notification_channel_ids: list[str] = msgspec.field(default_factory=list)
    monitor_ids: list[str] = msgspec.field(default_factory=list)
    tag_ids: list[str] = msgspec.field(default_factory=list)
    description: str = ""
    is_active: bool = True
    resend_interval_seconds: int = 0


class AlertRuleCreated(Event, frozen=True, kw_only=True, tag="alertrule.created"):
    aggregate: ClassVar[str] = ALERT_RULE
    spec: AlertRuleSpec


class AlertRuleUpdated(Event, frozen=True, kw_only=True, tag="alertrule.updated"):
    aggregate: ClassVar[str] = ALERT_RULE
    spec: AlertRuleSpec


class AlertRuleDeleted(Event, frozen=True, kw_only=True, tag="alertrule.deleted"):
    aggregate: ClassVar[str] = ALERT_RULE


class CreateChannel(Message, frozen=True, kw_only=True, tag="create_channel"):
    verb: ClassVar[str] = "create"
    organization_id: str
    spec: ChannelSpec
    correlation_id: str = ""


class UpdateChannel(Message, frozen=True, kw_only=True, tag="update_channel"):
    verb: ClassVar[str] = "update"
    organization_id: str
    channel_id: str
    spec: ChannelSpec
    correlation_id: str = ""


class DeleteChannel(Message, frozen=True, kw_only=True, tag="delete_channel"):
    verb: ClassVar[str] = "delete"
    organization_id: str
    channel_id: str
    correlation_id: str = ""


class CreateAlertRule(Message, frozen=True, kw_only=True, tag="create_alert_rule"):
    verb: ClassVar[str] = "create"
    organization_id: str
    spec: AlertRuleSpec
    correlation_id: str = ""


class UpdateAlertRule(Message, frozen=True, kw_only=True, tag="update_alert_rule"):
    verb: ClassVar[str] = "update"
    organization_id: str
    alert_rule_id: str
    spec: AlertRuleSpec
    correlation_id: str = ""


class DeleteAlertRule(Message, frozen=True, kw_only=True, tag="delete_alert_rule"):
    verb: ClassVar[str] = "delete"
    organization_id: str
    alert_rule_id: str
    correlation_id: str = ""


class TestChannel(Message, frozen=True, kw_only=True, tag="test_channel"):
    """Send a test message through a channel now and say what happened (handled by the notifier)."""

    verb: ClassVar[str] = "test"
    organization_id: str
    channel_id: str
    correlation_id: str = ""


class ChannelTested(Message, frozen=True, kw_only=True, tag="channel_tested"):
    ok: bool
    error: str | None = None
    permanent: bool = False  # the error will not go away by retrying (bad config, 4xx)
    duration_ms: float = 0.0


class MonitorRef(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    url: str


class NotificationJob(Message, frozen=True, kw_only=True, tag="notification_job"):
    """One delivery to one channel. ``key`` = (status event, channel): the
    idempotency key checked against the delivery log before sending."""

    key: str
    organization_id: str
    channel_id: str
    channel_type: ChannelType
    alert_rule_id: str
    event: AlertEvent
    monitor: MonitorRef
    status: str
    previous_status: str
    reason: str
    occurred_at: datetime
    cause_event_id: str
    incident_id: str = ""
    resend: int = 0  # 0: the first notice; n: the n-th reminder while still down


# --- the delivery log (aggregate ``delivery``, id = delivery_id(key)) ---------


class NotificationQueued(Event, frozen=True, kw_only=True, tag="delivery.queued"):
    """A rule sent an alert to a channel; the job is on its way."""

    aggregate: ClassVar[str] = DELIVERY
    key: str
    channel_id: str
    channel_type: ChannelType
    alert_rule_id: str
    monitor_id: str
    incident_id: str = ""
    event: AlertEvent
    resend: int = 0


class NotificationSent(Event, frozen=True, kw_only=True, tag="delivery.sent"):
    aggregate: ClassVar[str] = DELIVERY
    key: str
    channel_id: str
    attempts: int


class NotificationFailed(Event, frozen=True, kw_only=True, tag="delivery.failed"):
    """Given up: a permanent error, or the last attempt of transient ones."""

    aggregate: ClassVar[str] = DELIVERY
    key: str
    channel_id: str
    attempts: int
    error: str
    permanent: bool


class NotificationSkipped(Event, frozen=True, kw_only=True, tag="delivery.skipped"):
    aggregate: ClassVar[str] = DELIVERY
    key: str
    reason: str


class NotificationRetried(Event, frozen=True, kw_only=True, tag="delivery.retried"):
    """Someone sent a failed delivery off again."""

    aggregate: ClassVar[str] = DELIVERY
    key: str
    by_user_id: str


class RetryDelivery(Message, frozen=True, kw_only=True, tag="retry_delivery"):
    verb: ClassVar[str] = "retry"
    organization_id: str
    delivery_id: str
    by_user_id: str
    correlation_id: str = ""


def delivery_id(key: str) -> str:
    """The delivery's public id: a UUID derived from its idempotency key."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"phoenix:delivery:{key}"))


ChannelEvent = ChannelCreated | ChannelDeleted
AlertRuleEvent = AlertRuleCreated | AlertRuleDeleted
DeliveryEvent = (
    NotificationQueued
    | NotificationSent
    | NotificationFailed
    | NotificationSkipped
    | NotificationRetried
)


ChannelCommand = CreateChannel | UpdateChannel | DeleteChannel
AlertRuleCommand = CreateAlertRule | UpdateAlertRule | DeleteAlertRule
