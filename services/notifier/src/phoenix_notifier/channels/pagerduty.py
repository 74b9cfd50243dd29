"""PagerDuty channel: an alert event through the Events API v2.

``POST {api_url}/v2/enqueue`` (the integration's ``routing_key`` in the body)::

    {"routing_key": "...", "event_action": "trigger", "dedup_key": "phoenix-<monitor id>",
     "client": "Phoenix", "payload": {"summary": "Shop is down: timeout …",
        "source": "https://shop.example.com/", "severity": "critical",
        "timestamp": "2024-05-17T08:30:15.250000+00:00", "component": "Shop",
        "class": "down", "custom_details": {...}},
     "links": [{"href": "https://shop.example.com/", "text": "Shop"}]}

``down``, ``degraded``, ``certificate_expiring``, ``flapping`` and ``test``
trigger; ``recovered`` resolves. The dedup key is one per monitor, so a
recovery resolves the alert its down opened (and a reminder or a second
problem for the same monitor joins the open alert instead of paging again).
Severity: critical for down, warning for degraded / certificate / flapping,
info for a test.

Answers: 202 accepted; 400 (invalid event, e.g. a wrong routing key format)
permanent; 429 and 5xx transient.
"""

from __future__ import annotations

from typing import Any

from phoenix_contracts.channels import PagerDutyConfig
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.answers import (
    json_object,
    raw_detail,
    refuse,
    short,
)
from phoenix_notifier.channels.base import HttpChannel, HttpRequest, json_request
from phoenix_notifier.message import Notice, clip

SUMMARY_LIMIT = 1024
SOURCE_LIMIT = 255
DEDUP_LIMIT = 255
CLIENT = "Phoenix"

SEVERITY = {
    "down": "critical",
    "degraded": "warning",
    "certificate_expiring": "warning",
    "flapping": "warning",
    "test": "info",
}


def summary_of(notice: Notice) -> str:
    reason = " ".join(notice.reason.split())
    return clip(f"{notice.title}: {reason}" if reason else notice.title, SUMMARY_LIMIT)


def event_of(notice: Notice, routing_key: str) -> dict[str, Any]:
    dedup_key = notice.dedup_key[:DEDUP_LIMIT]
    if notice.event == "recovered":
        # A resolve needs only the key of the alert it closes.
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "client": CLIENT,
        "payload": {
            "summary": summary_of(notice),
            "source": clip(notice.monitor_url or notice.monitor_name or CLIENT, SOURCE_LIMIT),
            "severity": SEVERITY.get(notice.event, "error"),
            "timestamp": notice.occurred_at.isoformat(),
            "component": notice.monitor_name,
            "class": notice.event,
            "custom_details": {
                "text": notice.text,
                "status": notice.status,
                "previous_status": notice.previous_status,
                "reason": notice.reason,
                "monitor_id": notice.monitor_id,
                "monitor_name": notice.monitor_name,
                "monitor_url": notice.monitor_url,
                "incident_id": notice.incident_id,
                "resend": notice.resend,
            },
        },
    }
    if notice.monitor_url:
        event["links"] = [{"href": notice.monitor_url, "text": notice.monitor_name or "Monitor"}]
    return event


class PagerDutyChannel(HttpChannel):
    type = "pagerduty"

    def render(self, notice: Notice, config: PagerDutyConfig) -> HttpRequest:
        return json_request(
            config.api_url.rstrip("/") + "/v2/enqueue", event_of(notice, config.routing_key)
        )

    def check(self, response: Fetched) -> None:
        body = json_object(response)
        parts = [str(body["message"])] if body.get("message") else []
        errors = body.get("errors")
        if isinstance(errors, list):
            parts.extend(str(e) for e in errors)
        refuse(response, short("; ".join(parts)) if parts else raw_detail(response))

    def secrets(self, config: PagerDutyConfig) -> list[str]:
        return [config.routing_key]
