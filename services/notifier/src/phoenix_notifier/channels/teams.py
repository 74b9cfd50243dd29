"""Microsoft Teams channel: a message carrying one Adaptive Card, posted to a
Workflows webhook (the "Post to a channel when a webhook request is received"
flow) or a legacy connector URL.

The card: a coloured banner (container style by event) with the title, the
text, the monitor / status / reason lines, the time, and an "Open monitor"
button when the monitor has an http(s) URL. Every user value is a ``TextRun``
of a ``RichTextBlock``: Teams renders Markdown in ``TextBlock`` and ``FactSet``
but never in a ``TextRun``, so a monitor named ``**x**`` or ``[a](b)`` shows
as written, with no escaping to get wrong.

Answers: a Workflows webhook says 202; connectors say 200 ``1``, but may say
200 with "…returned HTTP error 429…" in the body, read as that status. Other
statuses as usual: 429/5xx retried, other 4xx permanent.
"""

from __future__ import annotations

import re
from typing import Any

from phoenix_contracts.channels import TeamsConfig
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.base import (
    TRANSIENT_STATUSES,
    HttpRequest,
    TransportError,
    check_status,
    json_request,
)
from phoenix_notifier.channels.chat_format import (
    ChatChannel,
    extra_reason,
    headline,
    http_link,
    label,
    status_line,
)
from phoenix_notifier.message import Notice

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"

# Adaptive Card container styles: the only colours a card may choose.
STYLES = {
    "down": "attention",
    "recovered": "good",
    "degraded": "warning",
    "certificate_expiring": "warning",
    "flapping": "warning",
    "test": "accent",
}

_RELAYED_ERROR = re.compile(r"returned HTTP error (\d{3})")


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}


def _rich(*runs: dict[str, Any], **block: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(runs), **block}


def _line(name: str, value: str) -> dict[str, Any]:
    return _rich(_run(f"{name}: ", weight="Bolder"), _run(value), spacing="Small")


def card_of(notice: Notice) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "Container",
            "style": STYLES.get(notice.event, "emphasis"),
            "bleed": True,
            "items": [_rich(_run(headline(notice), weight="Bolder", size="Medium"))],
        }
    ]
    body.extend(_rich(_run(line)) for line in notice.text.splitlines() if line.strip())
    body.append(_line("Monitor", notice.monitor_name or notice.monitor_id))
    body.append(_line("Status", status_line(notice) or label(notice.event)))
    if reason := extra_reason(notice):
        body.append(_line("Reason", reason))
    body.append(
        _rich(
            _run(
                f"{label(notice.event)} · {notice.occurred_at:%Y-%m-%d %H:%M:%S} UTC · Phoenix",
                isSubtle=True,
                size="Small",
            ),
            spacing="Medium",
        )
    )
    card: dict[str, Any] = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if link := http_link(notice.monitor_url):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open monitor", "url": link}]
    return card


def payload_of(notice: Notice) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card_of(notice)}
        ],
    }


class TeamsChannel(ChatChannel):
    type = "teams"

    def render(self, notice: Notice, config: TeamsConfig) -> HttpRequest:
        return json_request(config.webhook_url, payload_of(notice))

    def check(self, response: Fetched) -> None:
        check_status(response)
        relayed = _RELAYED_ERROR.search(response.body[:1000].decode("utf-8", "replace"))
        if relayed:
            status = int(relayed.group(1))
            transient = status in TRANSIENT_STATUSES or status >= 500
            raise TransportError(f"Teams relayed HTTP {status}", permanent=not transient)
