"""Gotify channel: one message to a self-hosted Gotify server.

``POST {server_url}/message`` with the application token in ``X-Gotify-Key``
(never in the query string, where proxies and access logs would keep it)::

    {"title": "🔴 Shop is down", "message": "...", "priority": 5,
     "extras": {"client::display": {"contentType": "text/plain"},
                "client::notification": {"click": {"url": "https://shop.example.com/"}}}}

``text/plain`` turns Markdown rendering off, so a monitor's name or a reason
cannot inject links or images into the client. Errors: Gotify answers
``{"error", "errorCode", "errorDescription"}``; 401/403/400 are permanent,
429/5xx transient.
"""

from __future__ import annotations

from typing import Any

from phoenix_contracts.channels import GotifyConfig
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.answers import (
    json_object,
    raw_detail,
    refuse,
    short,
)
from phoenix_notifier.channels.base import HttpChannel, HttpRequest, json_request
from phoenix_notifier.message import Notice


def title_of(notice: Notice) -> str:
    return f"{notice.emoji} {notice.title}".strip()


class GotifyChannel(HttpChannel):
    type = "gotify"

    def render(self, notice: Notice, config: GotifyConfig) -> HttpRequest:
        extras: dict[str, Any] = {"client::display": {"contentType": "text/plain"}}
        if notice.monitor_url:
            extras["client::notification"] = {"click": {"url": notice.monitor_url}}
        payload = {
            "title": title_of(notice),
            "message": notice.text or notice.title,  # Gotify refuses an empty message
            "priority": config.priority,
            "extras": extras,
        }
        return json_request(
            config.server_url.rstrip("/") + "/message",
            payload,
            {"X-Gotify-Key": config.app_token},
        )

    def check(self, response: Fetched) -> None:
        body = json_object(response)
        detail = " ".join(
            str(body[k]) for k in ("error", "errorDescription") if body.get(k)
        ) or raw_detail(response)
        refuse(response, short(detail))

    def secrets(self, config: GotifyConfig) -> list[str]:
        return [config.app_token]
