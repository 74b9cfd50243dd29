"""The webhook channel's JSON body (``phoenix_notifier.channels.webhook.payload_of``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from phoenix_contracts.notifications import MonitorRef, NotificationJob
from phoenix_notifier.channels.webhook import payload_of

OCCURRED = datetime(2024, 5, 17, 8, 30, 15, 250000, tzinfo=UTC)


def job(**changes: object) -> NotificationJob:
    fields: dict[str, object] = {
        "key": "event-9:rule-3:channel-2",
        "organization_id": "org-1",
        "channel_id": "channel-2",
        "channel_type": "webhook",
        "alert_rule_id": "rule-3",
        "event": "down",
        "monitor": MonitorRef(id="monitor-1", name="Shop", url="https://shop.example.com/"),
        "status": "down",
        "previous_status": "up",
        "reason": "timeout: the request timed out",
        "occurred_at": OCCURRED,
        "cause_event_id": "event-9",
    }
    fields.update(changes)
    return NotificationJob(**fields)  # type: ignore[arg-type]


def test_the_payload_has_exactly_the_documented_keys() -> None:
    body = json.loads(payload_of(job()))
    assert set(body) == {
        "event",
        "monitor",
        "status",
        "previous_status",
        "reason",
        "occurred_at",
        "delivery_id",
        "alert_rule_id",
    }
    assert set(body["monitor"]) == {"id", "name", "url"}


def test_the_payload_carries_the_jobs_values() -> None:
    assert json.loads(payload_of(job())) == {
        "event": "down",
        "monitor": {"id": "monitor-1", "name": "Shop", "url": "https://shop.example.com/"},
        "status": "down",
        "previous_status": "up",
        "reason": "timeout: the request timed out",
        "occurred_at": "2024-05-17T08:30:15.250000+00:00",
        "delivery_id": "event-9:rule-3:channel-2",
        "alert_rule_id": "rule-3",
    }


def test_the_delivery_id_is_the_idempotency_key_not_an_internal_id() -> None:
    body = json.loads(payload_of(job(key="k-1", cause_event_id="cause-1", channel_id="ch-1")))
    assert body["delivery_id"] == "k-1"
    assert "cause-1" not in json.dumps(body)
    assert "org-1" not in json.dumps(body), "the organization id is not leaked"


def test_a_recovery_payload_reports_the_recovered_event() -> None:
    body = json.loads(payload_of(job(event="recovered", status="up", previous_status="down")))
    assert (body["event"], body["status"], body["previous_status"]) == ("recovered", "up", "down")


def test_the_occurred_at_timestamp_round_trips_with_its_timezone() -> None:
    body = json.loads(payload_of(job()))
    assert datetime.fromisoformat(body["occurred_at"]) == OCCURRED


def test_the_payload_escapes_user_text_as_json() -> None:
    name = 'Shop "EU" \\ <script>\n'
    body = json.loads(payload_of(job(monitor=MonitorRef(id="m", name=name, url="https://x/"))))
    assert body["monitor"]["name"] == name
