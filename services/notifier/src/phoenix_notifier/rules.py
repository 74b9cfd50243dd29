"""Which status changes become which alerts, and which rules they reach (pure)."""

from __future__ import annotations

from phoenix_contracts.health import CertificateExpiring, HealthEvent, MonitorFlappingChanged
from phoenix_contracts.notifications import AlertEvent, AlertRuleSpec


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


def delivery_key(cause_event_id: str, rule_id: str, channel_id: str) -> str:
    return f"{cause_event_id}:{rule_id}:{channel_id}"
