"""Which status changes alert, and which rules they reach (``phoenix_notifier.rules``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from phoenix_contracts.base import Envelope
from phoenix_contracts.health import (
    CertificateExpiring,
    MonitorFlappingChanged,
    MonitorStatusChanged,
)
from phoenix_contracts.notifications import MAX_RESEND_INTERVAL, AlertRuleSpec
from phoenix_notifier.rules import Target, alert_event_of, delivery_key, rule_matches, targets

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def change(previous: str, status: str) -> MonitorStatusChanged:
    return MonitorStatusChanged(
        event_id="event-1",
        aggregate_id="monitor-1",
        aggregate_version=2,
        occurred_at=NOW,
        organization_id="org-1",
        monitor_id="monitor-1",
        status=status,  # type: ignore[arg-type]
        previous=previous,  # type: ignore[arg-type]
        reason="timeout: the request timed out",
        result_id="result-1",
        checked_at=NOW,
    )


ALERTS = [
    ("up", "down", "down"),
    ("pending", "down", "down"),
    ("degraded", "down", "down"),
    ("down", "up", "recovered"),
    ("pending", "up", None),
    ("up", "degraded", "degraded"),
    ("pending", "degraded", "degraded"),
    ("degraded", "up", None),
    ("up", "paused", None),
    ("down", "paused", None),
    ("paused", "up", None),
    ("up", "maintenance", None),
    ("maintenance", "up", None),
    ("up", "pending", None),
]


@pytest.mark.parametrize(
    ("previous", "status", "alert"), ALERTS, ids=[f"{p}-to-{s}" for p, s, _ in ALERTS]
)
def test_a_status_change_maps_to_an_alert_event(
    previous: str, status: str, alert: str | None
) -> None:
    assert alert_event_of(change(previous, status)) == alert


def rule(**changes: object) -> AlertRuleSpec:
    fields: dict[str, object] = {
        "name": "page me",
        "event": "down",
        "notification_channel_ids": ["channel-1"],
    }
    fields.update(changes)
    return AlertRuleSpec(**fields)  # type: ignore[arg-type]


MATCHES = [
    ("scope-all-matches-any-monitor", rule(), "down", "monitor-9", [], True),
    ("other-event-does-not-match", rule(event="recovered"), "down", "monitor-1", [], False),
    ("recovered-rule-matches-recovery", rule(event="recovered"), "recovered", "m", [], True),
    ("inactive-rule-never-matches", rule(is_active=False), "down", "monitor-1", [], False),
    (
        "listed-monitor-matches",
        rule(scope="monitors", monitor_ids=["monitor-1", "monitor-2"]),
        "down",
        "monitor-2",
        [],
        True,
    ),
    (
        "unlisted-monitor-does-not-match",
        rule(scope="monitors", monitor_ids=["monitor-1"]),
        "down",
        "monitor-3",
        ["tag-1"],
        False,
    ),
    (
        "monitor-scope-ignores-tags",
        rule(scope="monitors", monitor_ids=["monitor-1"], tag_ids=["tag-1"]),
        "down",
        "monitor-3",
        ["tag-1"],
        False,
    ),
    (
        "shared-tag-matches",
        rule(scope="tags", tag_ids=["prod", "eu"]),
        "down",
        "monitor-1",
        ["staging", "eu"],
        True,
    ),
    (
        "no-shared-tag-does-not-match",
        rule(scope="tags", tag_ids=["prod"]),
        "down",
        "monitor-1",
        ["staging"],
        False,
    ),
    (
        "untagged-monitor-does-not-match-tag-scope",
        rule(scope="tags", tag_ids=["prod"]),
        "down",
        "monitor-1",
        [],
        False,
    ),
    (
        "tag-scope-ignores-monitor-ids",
        rule(scope="tags", tag_ids=["prod"], monitor_ids=["monitor-1"]),
        "down",
        "monitor-1",
        [],
        False,
    ),
    (
        "inactive-listed-monitor-does-not-match",
        rule(scope="monitors", monitor_ids=["monitor-1"], is_active=False),
        "down",
        "monitor-1",
        [],
        False,
    ),
]


@pytest.mark.parametrize(
    ("spec", "event", "monitor_id", "tag_ids", "matches"),
    [row[1:] for row in MATCHES],
    ids=[row[0] for row in MATCHES],
)
def test_a_rule_matches_by_event_activity_and_scope(
    spec: AlertRuleSpec, event: str, monitor_id: str, tag_ids: list[str], matches: bool
) -> None:
    assert rule_matches(spec, event, monitor_id, tag_ids) is matches  # type: ignore[arg-type]


def test_the_delivery_key_is_one_per_status_event_and_channel() -> None:
    keys = {
        delivery_key(cause, channel)
        for cause in ("event-1", "event-2")
        for channel in ("channel-1", "channel-2")
    }
    assert len(keys) == 4
    assert delivery_key("event-1", "channel-1") == "event-1:channel-1"


def rule(name: str, channels: list[str], **extra: Any) -> AlertRuleSpec:
    return AlertRuleSpec(name=name, event="down", notification_channel_ids=channels, **extra)


def test_a_channel_named_by_several_rules_gets_one_message_with_the_shortest_reminders() -> None:
    found = targets(
        [
            ("rule-b", rule("b", ["ch-1", "ch-2"], resend_interval_seconds=600)),
            ("rule-a", rule("a", ["ch-1"], resend_interval_seconds=300)),
            ("rule-c", rule("c", ["ch-2"])),
            ("rule-d", rule("d", ["ch-3"], is_active=False)),
            ("rule-e", rule("e", ["ch-gone"])),
        ],
        "down",
        "m-1",
        [],
        {"ch-1", "ch-2", "ch-3"},
    )
    assert sorted(found, key=lambda t: t.channel_id) == [
        Target("ch-1", "rule-a", 300),
        Target("ch-2", "rule-b", 600),
    ]


def test_a_rule_stored_with_an_unbounded_reminder_interval_is_held_to_the_bound() -> None:
    stored = [("r", rule("r", ["ch-1"], resend_interval_seconds=10**12))]
    assert targets(stored, "down", "m-1", [], {"ch-1"}) == [
        Target("ch-1", "r", MAX_RESEND_INTERVAL)
    ]


def test_no_matching_rule_means_no_target() -> None:
    assert targets([("r", rule("r", ["ch-1"]))], "recovered", "m-1", [], {"ch-1"}) == []


def _envelope() -> Envelope:
    return Envelope(
        event_id="e1",
        aggregate_id="m1",
        aggregate_version=3,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        organization_id="o1",
        correlation_id="",
    )


def test_changes_of_a_flapping_monitor_are_not_alerted_one_by_one() -> None:
    change = MonitorStatusChanged(
        **_envelope(),
        monitor_id="m1",
        status="down",
        previous="up",
        reason="x",
        result_id="r1",
        checked_at=datetime(2026, 1, 1, tzinfo=UTC),
        flapping=True,
    )
    assert alert_event_of(change) is None


def test_flapping_starts_are_alerted_and_ends_are_not() -> None:
    started = MonitorFlappingChanged(
        **_envelope(), monitor_id="m1", flapping=True, changes_in_window=5, window_seconds=600
    )
    assert alert_event_of(started) == "flapping"
    assert alert_event_of(msgspec.structs.replace(started, flapping=False)) is None


def test_a_certificate_warning_is_a_certificate_expiring_alert() -> None:
    warning = CertificateExpiring(
        **_envelope(),
        monitor_id="m1",
        expires_at=datetime(2026, 1, 8, tzinfo=UTC),
        days_left=7,
        threshold_days=7,
    )
    assert alert_event_of(warning) == "certificate_expiring"


def test_a_recovery_into_degraded_is_still_a_recovery() -> None:
    change = MonitorStatusChanged(
        **_envelope(),
        monitor_id="m1",
        status="degraded",
        previous="down",
        reason="slow",
        result_id="r1",
        checked_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert alert_event_of(change) == "recovered"
