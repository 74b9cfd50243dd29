"""Mattermost channel: one post to an incoming-webhook URL.

Body: ``text`` (Markdown: emoji and the title in bold), one attachment coloured
by event with the text, fields for monitor (linked), status and reason, and
a footer with the time; ``channel`` and ``username`` when the config sets them
(the webhook must allow overriding them). User values are Markdown-escaped
with backslashes (bare URLs kept whole, so they still link).

Answers: 200 ``ok`` delivered; 429 and 5xx retried; other 4xx (invalid or
deleted webhook, channel not allowed, webhooks disabled) permanent.
"""

from __future__ import annotations

from typing import Any

from phoenix_contracts.channels import MattermostConfig

from phoenix_notifier.channels.base import HttpRequest, json_request
from phoenix_notifier.channels.chat_format import (
    ChatChannel,
    color_hex,
    escape_markdown,
    extra_reason,
    headline,
    http_link,
    label,
    status_line,
)
from phoenix_notifier.message import Notice, clip

TEXT_LIMIT = 4000


def _field(title: str, value: str, short: bool = True) -> dict[str, Any]:
    return {"short": short, "title": title, "value": value}


def _link(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29")


def payload_of(notice: Notice, config: MattermostConfig) -> dict[str, Any]:
    name = escape_markdown(notice.monitor_name or notice.monitor_id)
    link = http_link(notice.monitor_url)
    fields = [
        _field("Monitor", f"[{name}]({_link(link)})" if link else name),
        _field("Status", escape_markdown(status_line(notice) or label(notice.event))),
    ]
    if reason := extra_reason(notice):
        fields.append(_field("Reason", escape_markdown(reason), short=False))
    attachment: dict[str, Any] = {
        "fallback": headline(notice),
        "color": color_hex(notice.event),
        "text": clip(escape_markdown(notice.text), TEXT_LIMIT),
        "fields": fields,
        "footer": f"Phoenix · {label(notice.event)} · {notice.occurred_at:%Y-%m-%d %H:%M:%S} UTC",
    }
    payload: dict[str, Any] = {
        "text": f"{notice.emoji} **{escape_markdown(notice.title)}**".strip(),
        "attachments": [attachment],
    }
    if config.channel:
        payload["channel"] = config.channel
    if config.username:
        payload["username"] = config.username
    return payload


class MattermostChannel(ChatChannel):
    type = "mattermost"

    def render(self, notice: Notice, config: MattermostConfig) -> HttpRequest:
        return json_request(config.webhook_url, payload_of(notice, config))
