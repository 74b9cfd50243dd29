"""Discord channel: one message through a webhook, ``?wait=true`` so Discord
confirms the message was saved (it answers 200 with it, or an error) instead
of 204 before checking.

Body: ``content`` (the title, for push notifications), one embed (title, the
text as description, colour by event, ISO timestamp, fields for monitor,
status and reason, the monitor URL as the embed link), ``allowed_mentions``
empty so no text can ping ``@everyone`` or a role, and ``username`` when set.
Markdown in user values is backslash-escaped (bare URLs kept whole).

Answers: 2xx delivered; 429 is retried after the ``retry_after`` of the JSON
body (seconds, may be fractional) or the ``Retry-After`` header; 5xx retried;
other 4xx (unknown webhook, invalid body) permanent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
from phoenix_contracts.channels import DiscordConfig
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.base import (
    HttpRequest,
    TransportError,
    check_status,
    json_request,
    retry_after,
)
from phoenix_notifier.channels.chat_format import (
    ChatChannel,
    color_int,
    escape_markdown,
    extra_reason,
    headline,
    http_link,
    label,
    status_line,
)
from phoenix_notifier.message import Notice, clip

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
USERNAME_LIMIT = 80


def with_wait(url: str) -> str:
    """The webhook URL with ``wait=true`` (any other query, e.g. ``thread_id``, kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "wait"]
    query.append(("wait", "true"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _paren_safe(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29")


def _field(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": clip(value, FIELD_LIMIT) or "-", "inline": True}


def payload_of(notice: Notice, config: DiscordConfig) -> dict[str, Any]:
    link = http_link(notice.monitor_url)
    name = escape_markdown(notice.monitor_name or notice.monitor_id)
    fields = [
        _field("Monitor", f"[{name}]({_paren_safe(link)})" if link else name),
        _field("Status", escape_markdown(status_line(notice) or label(notice.event))),
    ]
    if reason := extra_reason(notice):
        fields.append({**_field("Reason", escape_markdown(reason)), "inline": False})
    embed: dict[str, Any] = {
        "title": clip(headline(notice), TITLE_LIMIT),
        "description": clip(escape_markdown(notice.text), DESCRIPTION_LIMIT),
        "color": color_int(notice.event),
        "timestamp": notice.occurred_at.isoformat(),
        "fields": fields,
        "footer": {"text": f"Phoenix · {label(notice.event)}"},
    }
    if link:
        embed["url"] = link
    payload: dict[str, Any] = {
        "content": clip(escape_markdown(headline(notice)), CONTENT_LIMIT),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }
    if config.username:
        payload["username"] = clip(config.username, USERNAME_LIMIT)
    return payload


def _json(body: bytes) -> dict[str, Any]:
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


class DiscordChannel(ChatChannel):
    type = "discord"

    def render(self, notice: Notice, config: DiscordConfig) -> HttpRequest:
        return json_request(with_wait(config.webhook_url), payload_of(notice, config))

    def check(self, response: Fetched) -> None:
        if response.status_code != 429:
            check_status(response)
            return
        body = _json(response.body)
        delay = body.get("retry_after")
        seconds = (
            float(delay)
            if isinstance(delay, int | float) and not isinstance(delay, bool) and delay >= 0
            else retry_after(response.headers.get("retry-after"))
        )
        message = clip(str(body.get("message") or "rate limited"), 200)
        scope = " (global)" if body.get("global") is True else ""
        raise TransportError(f"HTTP 429: {message}{scope}", retry_after=seconds)
