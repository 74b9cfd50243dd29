"""Opsgenie channel: create an alert, close it on recovery (Alert API v2).

Every request carries ``Authorization: GenieKey <api_key>`` (an API
integration's key). A problem creates an alert::

    POST {api_url}/v2/alerts
    {"message": "Shop is down", "alias": "phoenix-<monitor id>",
     "description": "...", "priority": "P1", "source": "Phoenix",
     "entity": "Shop", "tags": ["phoenix", "down"], "details": {...}}

``message`` is cut to Opsgenie's 130 characters, ``description`` to 15000.
The alias is one per monitor: Opsgenie keeps one open alert per alias (a
reminder or a second problem only bumps its count), and a recovery closes it::

    POST {api_url}/v2/alerts/{alias}/close?identifierType=alias
    {"source": "Phoenix", "note": "..."}

Priority: P1 down, P2 flapping, P3 degraded and certificate expiring, P5 test.

Answers: 202 accepted (Opsgenie processes requests asynchronously); 429 and
5xx transient; any other 4xx (bad key 401/403, invalid field 422) permanent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from phoenix_contracts.channels import OpsgenieConfig
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.answers import (
    json_object,
    raw_detail,
    refuse,
    short,
)
from phoenix_notifier.channels.base import HttpChannel, HttpRequest, json_request
from phoenix_notifier.message import Notice, clip

MESSAGE_LIMIT = 130
DESCRIPTION_LIMIT = 15_000
ALIAS_LIMIT = 512
NOTE_LIMIT = 25_000
DETAIL_LIMIT = 8_000
SOURCE = "Phoenix"

PRIORITY = {
    "down": "P1",
    "flapping": "P2",
    "degraded": "P3",
    "certificate_expiring": "P3",
    "test": "P5",
}


def alias_of(notice: Notice) -> str:
    return notice.dedup_key[:ALIAS_LIMIT]


def details_of(notice: Notice) -> dict[str, str]:
    """Opsgenie details are a string → string map."""
    values = {
        "event": notice.event,
        "status": notice.status,
        "previous_status": notice.previous_status,
        "reason": notice.reason,
        "monitor_id": notice.monitor_id,
        "monitor_name": notice.monitor_name,
        "monitor_url": notice.monitor_url,
        "incident_id": notice.incident_id,
        "occurred_at": notice.occurred_at.isoformat(),
    }
    return {key: clip(value, DETAIL_LIMIT) for key, value in values.items() if value}


def create_of(notice: Notice) -> dict[str, Any]:
    return {
        "message": clip(notice.title, MESSAGE_LIMIT),
        "alias": alias_of(notice),
        "description": clip(notice.text, DESCRIPTION_LIMIT),
        "priority": PRIORITY.get(notice.event, "P3"),
        "source": SOURCE,
        "entity": notice.monitor_name,
        "tags": ["phoenix", notice.event],
        "details": details_of(notice),
    }


class OpsgenieChannel(HttpChannel):
    type = "opsgenie"

    def render(self, notice: Notice, config: OpsgenieConfig) -> HttpRequest:
        base = config.api_url.rstrip("/") + "/v2/alerts"
        auth = {"Authorization": f"GenieKey {config.api_key}"}
        if notice.event == "recovered":
            url = f"{base}/{quote(alias_of(notice), safe='')}/close?identifierType=alias"
            note = clip(f"{notice.title}\n{notice.text}".strip(), NOTE_LIMIT)
            return json_request(url, {"source": SOURCE, "note": note}, auth)
        return json_request(base, create_of(notice), auth)

    def check(self, response: Fetched) -> None:
        body = json_object(response)
        parts = [str(body["message"])] if body.get("message") else []
        errors = body.get("errors")  # {"field": "what is wrong"} on a 422
        if isinstance(errors, dict):
            parts.extend(f"{field}: {why}" for field, why in errors.items())
        refuse(response, short("; ".join(parts)) if parts else raw_detail(response))

    def secrets(self, config: OpsgenieConfig) -> list[str]:
        return [config.api_key]
