"""Pushover channel: one push message through the Pushover Message API.

``POST {api_url}/1/messages.json``, form-encoded: ``token`` (the application's
API token), ``user`` (the user or group key), ``title`` (≤ 250 characters),
``message`` (≤ 1024, plain text: ``html`` is not set), ``priority`` (1, high,
bypassing quiet hours, for ``down``; 0 otherwise), ``url`` / ``url_title`` (the
monitor's address, when it has one of at most 512 characters) and
``timestamp`` (when it happened, Unix seconds).

Pushover answers ``{"status": 1, "request": ...}`` when it took the message and
``{"status": 0, "errors": [...]}`` when not: a 4xx is permanent (bad token,
unknown user, too long), so is a 2xx carrying ``status: 0``; 429 and 5xx are
transient.
"""

from __future__ import annotations

from urllib.parse import urlencode

from phoenix_contracts.channels import PushoverConfig
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.answers import (
    json_object,
    raw_detail,
    refuse,
    short,
)
from phoenix_notifier.channels.base import HttpChannel, HttpRequest, TransportError
from phoenix_notifier.message import Notice, clip

TITLE_LIMIT = 250
MESSAGE_LIMIT = 1024
URL_LIMIT = 512
URL_TITLE_LIMIT = 100

PRIORITY = {"down": 1}  # anything else: 0, a normal notification


class PushoverChannel(HttpChannel):
    type = "pushover"

    def render(self, notice: Notice, config: PushoverConfig) -> HttpRequest:
        fields = {
            "token": config.app_token,
            "user": config.user_key,
            "title": clip(f"{notice.emoji} {notice.title}".strip(), TITLE_LIMIT),
            "message": clip(notice.text or notice.title, MESSAGE_LIMIT),
            "priority": str(PRIORITY.get(notice.event, 0)),
            "timestamp": str(int(notice.occurred_at.timestamp())),
        }
        if notice.monitor_url and len(notice.monitor_url) <= URL_LIMIT:
            fields["url"] = notice.monitor_url
            fields["url_title"] = clip(notice.monitor_name or notice.monitor_url, URL_TITLE_LIMIT)
        return HttpRequest(
            url=config.api_url.rstrip("/") + "/1/messages.json",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urlencode(fields).encode(),
        )

    def check(self, response: Fetched) -> None:
        body = json_object(response)
        errors = body.get("errors")
        detail = (
            short("; ".join(str(e) for e in errors))
            if isinstance(errors, list) and errors
            else raw_detail(response)
        )
        if 200 <= response.status_code < 300 and body.get("status", 1) != 1:
            raise TransportError(f"Pushover refused the message: {detail}", permanent=True)
        refuse(response, detail)

    def secrets(self, config: PushoverConfig) -> list[str]:
        return [config.app_token, config.user_key]
