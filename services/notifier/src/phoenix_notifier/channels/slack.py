"""Slack channel: one message to an incoming-webhook URL.

Body: ``text`` (the fallback shown in notifications), a ``header`` block with
the title, and one attachment coloured by event whose blocks carry the text,
the monitor (linked), the status change, the reason when the text does not
already give it, and when it happened. User values in ``mrkdwn`` have Slack's
control characters ``& < >`` escaped, so a monitor cannot forge links or
``<!channel>`` mentions; ``plain_text`` is never parsed.

Slack answers 200 ``ok``, or a 4xx with a short reason (``invalid_payload``,
``no_service``, ``channel_not_found``, ``channel_is_archived``…): permanent;
429 (with ``Retry-After``) and 5xx are retried.
"""

from __future__ import annotations

from typing import Any

from phoenix_contracts.channels import SlackConfig

from phoenix_notifier.channels.base import HttpRequest, json_request
from phoenix_notifier.channels.chat_format import (
    ChatChannel,
    color_hex,
    escape_slack,
    extra_reason,
    headline,
    http_link,
    label,
    status_line,
)
from phoenix_notifier.message import Notice, clip

HEADER_LIMIT = 150  # a header block's plain_text
SECTION_LIMIT = 3000  # a section's text
FIELD_LIMIT = 2000  # one section field


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _field(name: str, value: str) -> dict[str, str]:
    return _mrkdwn(clip(f"*{name}*\n{value}", FIELD_LIMIT))


def monitor_mrkdwn(notice: Notice) -> str:
    name = escape_slack(notice.monitor_name or notice.monitor_id)
    link = http_link(notice.monitor_url)
    if link is None:
        return name
    # Inside <url|text> a '|' or '>' in the URL would end it early: percent-encode them.
    target = escape_slack(link.replace("|", "%7C")).replace("&gt;", "%3E")
    return f"<{target}|{name}>"


def payload_of(notice: Notice) -> dict[str, Any]:
    fields = [
        _field("Monitor", monitor_mrkdwn(notice)),
        _field("Status", escape_slack(status_line(notice) or label(notice.event))),
    ]
    if reason := extra_reason(notice):
        fields.append(_field("Reason", escape_slack(reason)))
    details: list[dict[str, Any]] = []
    if notice.text:
        details.append(
            {"type": "section", "text": _mrkdwn(clip(escape_slack(notice.text), SECTION_LIMIT))}
        )
    details.append({"type": "section", "fields": fields})
    details.append(
        {
            "type": "context",
            "elements": [
                _mrkdwn(
                    f"{label(notice.event)} · {notice.occurred_at:%Y-%m-%d %H:%M:%S} UTC · Phoenix"
                )
            ],
        }
    )
    return {
        "text": escape_slack(headline(notice)),
        "blocks": [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": clip(headline(notice), HEADER_LIMIT),
                    "emoji": True,
                },
            }
        ],
        "attachments": [{"color": color_hex(notice.event), "blocks": details}],
    }


class SlackChannel(ChatChannel):
    type = "slack"

    def render(self, notice: Notice, config: SlackConfig) -> HttpRequest:
        return json_request(config.webhook_url, payload_of(notice))
