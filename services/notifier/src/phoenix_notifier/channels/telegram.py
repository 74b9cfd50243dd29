"""Telegram channel: ``sendMessage`` of the Bot API.

``POST {api_url}/bot{token}/sendMessage`` with JSON ``chat_id``, ``text``,
``parse_mode: HTML`` and ``disable_web_page_preview``. The text is the title
in bold, then the notice text, then a link to the monitor; every user value
is HTML-escaped (Telegram's HTML mode knows only a few tags and ``&lt; &gt;
&amp; &quot;``), so a monitor named ``<b>x</b>`` shows as written.

The Bot API answers ``{"ok": true, ...}`` or ``{"ok": false, "error_code",
"description", "parameters"}``: 429 is retried after ``parameters.retry_after``;
5xx retried; 400/401/403/404 (chat not found, bot blocked or kicked, bad
token) and an ``ok: false`` with a 2xx are permanent. Error messages carry
the status and Telegram's description, never the URL: the token is in it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
from phoenix_contracts.channels import TelegramConfig
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.base import (
    TRANSIENT_STATUSES,
    HttpRequest,
    TransportError,
    json_request,
    retry_after,
)
from phoenix_notifier.channels.chat_format import (
    ChatChannel,
    escape_html,
    headline,
    http_link,
)
from phoenix_notifier.message import Notice, clip

# Telegram counts the limit (4096) after entities are parsed: clip the raw text.
TEXT_LIMIT = 3500


def text_of(notice: Notice) -> str:
    parts = [f"<b>{escape_html(headline(notice))}</b>"]
    if notice.text:
        parts.append(escape_html(clip(notice.text, TEXT_LIMIT)))
    link = http_link(notice.monitor_url)
    name = escape_html(notice.monitor_name or notice.monitor_id)
    if link and link not in notice.text:
        parts.append(f'<a href="{escape_html(link)}">{name}</a>')
    return "\n\n".join(parts)


def payload_of(notice: Notice, config: TelegramConfig) -> dict[str, Any]:
    return {
        "chat_id": config.chat_id,
        "text": text_of(notice),
        "parse_mode": "HTML",
        "disable_web_page_preview": True,
    }


def _answer(body: bytes) -> dict[str, Any]:
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


class TelegramChannel(ChatChannel):
    type = "telegram"

    def render(self, notice: Notice, config: TelegramConfig) -> HttpRequest:
        base = config.api_url.rstrip("/")
        return json_request(f"{base}/bot{config.bot_token}/sendMessage", payload_of(notice, config))

    def check(self, response: Fetched) -> None:
        status = response.status_code
        answer = _answer(response.body)
        if 200 <= status < 300 and answer.get("ok") is not False:
            return
        description = answer.get("description")
        detail = clip(str(description), 200) if description else _reason(status)
        parameters = answer.get("parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        if "migrate_to_chat_id" in parameters:
            detail += f" (the group is now chat {parameters['migrate_to_chat_id']})"
        message = f"HTTP {status} {detail}"
        if status in TRANSIENT_STATUSES or status >= 500:
            delay = parameters.get("retry_after")
            seconds = (
                float(delay)
                if isinstance(delay, int | float) and not isinstance(delay, bool) and delay >= 0
                else retry_after(response.headers.get("retry-after"))
            )
            raise TransportError(message, retry_after=seconds)
        raise TransportError(message, permanent=True)
