"""Which status changes become which alerts, and which rules they reach (pure)."""

from __future__ import annotations

from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.notifications import AlertEvent, AlertRuleSpec


def alert_event_of(change: MonitorStatusChanged) -> AlertEvent | None:
    """A recovery is only a recovery after a down; pending → up is no news."""
    if change.status == "down":
        return "down"
    if change.status == "up" and change.previous == "down":
        return "recovered"
    if change.status == "degraded":
        return "degraded"
    return None


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
