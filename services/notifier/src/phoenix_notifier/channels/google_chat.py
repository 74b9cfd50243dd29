"""Google Chat channel: one message to a space's incoming-webhook URL.

Body: ``text`` (the title, what notifications show) and one ``cardsV2`` card:
header with the title, the text, decorated lines for monitor / status (in the
event's colour) / reason / time, and an "Open monitor" button when the monitor
has an http(s) URL.

Escaping: card text takes a small HTML subset, so user values there are
HTML-escaped (``\\n`` becomes ``<br>``). The plain ``text`` uses Chat's own
markup, where ``<users/all>`` would mention everyone and ``<url|x>`` makes a
link: a zero-width space after each ``<`` keeps it literal. Card header titles
are plain text and go as they are.

Answers: 2xx delivered; 429 (about one message a second per space) and 5xx
retried; other 4xx (bad request, deleted webhook, wrong key) permanent.
"""

from __future__ import annotations

from typing import Any

from phoenix_contracts.channels import GoogleChatConfig

from phoenix_notifier.channels.base import HttpRequest, json_request
from phoenix_notifier.channels.chat_format import (
    ChatChannel,
    color_hex,
    escape_html,
    extra_reason,
    headline,
    http_link,
    label,
    status_line,
)
from phoenix_notifier.message import Notice, clip

TEXT_LIMIT = 4000
CARD_ID = "phoenix-notice"
ZERO_WIDTH_SPACE = "\u200b"


def escape_chat_text(value: str) -> str:
    """Chat text markup: break ``<…>`` (mentions, links) apart so it shows as typed."""
    return value.replace("<", "<" + ZERO_WIDTH_SPACE)


def _html(value: str) -> str:
    return escape_html(value).replace("\n", "<br>")


def _line(name: str, value_html: str) -> dict[str, Any]:
    return {"decoratedText": {"topLabel": name, "text": value_html, "wrapText": True}}


def card_of(notice: Notice) -> dict[str, Any]:
    status = escape_html(status_line(notice) or label(notice.event))
    widgets: list[dict[str, Any]] = []
    if notice.text:
        widgets.append({"textParagraph": {"text": _html(clip(notice.text, TEXT_LIMIT))}})
    widgets.append(_line("Monitor", _html(notice.monitor_name or notice.monitor_id)))
    widgets.append(_line("Status", f'<font color="{color_hex(notice.event)}">{status}</font>'))
    if reason := extra_reason(notice):
        widgets.append(_line("Reason", _html(reason)))
    widgets.append(_line("When", f"{notice.occurred_at:%Y-%m-%d %H:%M:%S} UTC"))
    if link := http_link(notice.monitor_url):
        widgets.append(
            {
                "buttonList": {
                    "buttons": [{"text": "Open monitor", "onClick": {"openLink": {"url": link}}}]
                }
            }
        )
    return {
        "cardId": CARD_ID,
        "card": {
            "header": {"title": headline(notice), "subtitle": f"Phoenix · {label(notice.event)}"},
            "sections": [{"widgets": widgets}],
        },
    }


def payload_of(notice: Notice) -> dict[str, Any]:
    return {"text": escape_chat_text(headline(notice)), "cardsV2": [card_of(notice)]}


class GoogleChatChannel(ChatChannel):
    type = "google_chat"

    def render(self, notice: Notice, config: GoogleChatConfig) -> HttpRequest:
        return json_request(config.webhook_url, payload_of(notice))
