"""What the chat channels share: labels and colours per event, escaping for each
markup they speak, and errors that name the channel and never carry a secret.

Everything here is pure except :meth:`ChatChannel.send`, which only wraps the
base class's sending to rewrite the error it raises.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from phoenix_notifier.channels.base import HttpChannel
from phoenix_notifier.message import Notice

LABELS = {
    "down": "Down",
    "recovered": "Recovered",
    "degraded": "Degraded",
    "certificate_expiring": "Certificate expiring",
    "flapping": "Flapping",
    "test": "Test",
}

# One palette for every chat service (hex without '#').
COLORS = {
    "down": "D93025",
    "recovered": "2EB67D",
    "degraded": "ECB22E",
    "certificate_expiring": "F2994A",
    "flapping": "F2994A",
    "test": "4A90D9",
}
DEFAULT_COLOR = "808080"


def label(event: str) -> str:
    return LABELS.get(event, event.replace("_", " ").capitalize())


def color_hex(event: str) -> str:
    """``#RRGGBB``."""
    return "#" + COLORS.get(event, DEFAULT_COLOR)


def color_int(event: str) -> int:
    return int(COLORS.get(event, DEFAULT_COLOR), 16)


def headline(notice: Notice) -> str:
    """The title with the event's emoji in front (one line)."""
    return f"{notice.emoji} {notice.title}".strip()


def status_line(notice: Notice) -> str:
    """``up → down``, or just the status when there was none before."""
    if notice.previous_status and notice.previous_status != notice.status:
        return f"{notice.previous_status} → {notice.status}"
    return notice.status


def extra_reason(notice: Notice) -> str:
    """The reason, unless the text already says it (the default text starts with it)."""
    return "" if not notice.reason or notice.reason in notice.text else notice.reason


def http_link(url: str) -> str | None:
    """``url`` if it can be a clickable link (http/https, one line, a host), else None."""
    if not url or any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def escape_html(value: str) -> str:
    """For HTML-ish markups (Telegram, Google Chat cards): ``& < >`` and quotes."""
    return html.escape(value, quote=True)


def escape_slack(value: str) -> str:
    """Slack's three control characters, as its formatting reference asks."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# A bare URL as autolinkers see it: trailing punctuation is not part of it.
_URL = re.compile(r"https?://[^\s<>]*[^\s<>.,;:!?()\[\]*_~'\"]")
_MARKDOWN = re.compile(r"([\\`*_~\[\]()<>#|!])")
_LIST_MARK = re.compile(r"(?m)^([ \t]*)([-+])(?=\s)")
_LIST_NUMBER = re.compile(r"(?m)^([ \t]*\d+)([.)])(?=\s)")


def escape_markdown(value: str) -> str:
    """Backslash-escape Markdown punctuation (CommonMark and Discord both honour it)
    outside bare http(s) URLs, which are left whole so they still link."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(value):
        out.append(_MARKDOWN.sub(r"\\\1", value[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_MARKDOWN.sub(r"\\\1", value[last:]))
    # "- x", "+ x", "1. x" at a line start would become a list.
    escaped = _LIST_MARK.sub(r"\1\\\2", "".join(out))
    return _LIST_NUMBER.sub(r"\1\\\2", escaped)


class ChatChannel(HttpChannel):
    """An :class:`HttpChannel` whose errors start with the channel type."""

    name_errors = True
