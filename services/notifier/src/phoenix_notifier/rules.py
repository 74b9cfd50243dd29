"""Which status changes become which alerts, and which rules they reach (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from phoenix_contracts.health import CertificateExpiring, HealthEvent, MonitorFlappingChanged
from phoenix_contracts.notifications import MAX_RESEND_INTERVAL, AlertEvent, AlertRuleSpec


def alert_event_of(event: HealthEvent) -> AlertEvent | None:
    """What a health event means to a person, or None when it is no news.

    A recovery is only a recovery after a down; pending → up is no news. While
    a monitor flaps, its changes are not alerted one by one: the flapping
    notice stands for them.
    """
    if isinstance(event, MonitorFlappingChanged):
        return "flapping" if event.flapping else None
    if isinstance(event, CertificateExpiring):
        return "certificate_expiring"
    if event.flapping:
        return None
    if event.status == "down":
        return "down"
    if event.previous == "down" and event.status in ("up", "degraded"):
        return "recovered"
    if event.status == "degraded":
        return "degraded"
    return None


def describe(event: HealthEvent) -> tuple[str, str, str]:
    """(status, previous status, reason) as a notification states them."""
    if isinstance(event, MonitorFlappingChanged):
        return "flapping", "", f"{event.changes_in_window} changes in {event.window_seconds} s"
    if isinstance(event, CertificateExpiring):
        expiry = event.expires_at.date().isoformat()
        return (
            "certificate_expiring",
            "",
            f"certificate expires in {event.days_left} days ({expiry})",
        )
    return event.status, event.previous, event.reason


def rule_matches(
    rule: AlertRuleSpec, event: AlertEvent, monitor_id: str, tag_ids: list[str]
) -> bool:
    if not rule.is_active or rule.event != event:
        return False
    if rule.scope == "monitors":
        return monitor_id in rule.monitor_ids
    if rule.scope == "tags":
        return bool(set(rule.tag_ids) & set(tag_ids))
    return True


def delivery_key(cause_event_id: str, channel_id: str) -> str:
    """One delivery per (status event, channel), however many rules lead there."""
    return f"{cause_event_id}:{channel_id}"


@dataclass(frozen=True)
class Target:
    channel_id: str
    alert_rule_id: str  # the first matching rule (by id) that names the channel
    resend_interval: int  # the shortest of the matching rules' (0: no reminders)


def targets(
    rules: list[tuple[str, AlertRuleSpec]],
    event: AlertEvent,
    monitor_id: str,
    tag_ids: list[str],
    channel_ids: set[str],
) -> list[Target]:
    """Which channels an alert goes to: each once, even when several rules name it."""
    found: dict[str, Target] = {}
    for rule_id, spec in sorted(rules, key=lambda r: r[0]):
        if not rule_matches(spec, event, monitor_id, tag_ids):
            continue
        for channel_id in spec.notification_channel_ids:
            if channel_id not in channel_ids:
                continue
            # A rule stored before its bound was checked keeps within it here: the
            # next reminder is a moment plus the interval, in an int4 column.
            interval = min(max(spec.resend_interval_seconds, 0), MAX_RESEND_INTERVAL)
            if (known := found.get(channel_id)) is not None:
                intervals = [i for i in (known.resend_interval, interval) if i > 0]
                interval = min(intervals, default=0)
                found[channel_id] = Target(channel_id, known.alert_rule_id, interval)
            else:
                found[channel_id] = Target(channel_id, rule_id, interval)
    return list(found.values())
