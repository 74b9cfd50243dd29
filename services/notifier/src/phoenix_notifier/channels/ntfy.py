"""ntfy channel: ``POST {server_url}/{topic}``, the body the notice text.

Headers: ``Title`` (the title; non-ASCII as RFC 2047 encoded words, which ntfy
decodes), ``Priority`` by event (down 5 "max/urgent", degraded, flapping and
certificate expiring 4 "high", recovered and test 3 "default"), ``Tags`` (the
event's emoji shortcode, which ntfy shows as the emoji, and the event), ``Click``
(the monitor URL, when it is an ASCII http(s) URL) and ``Authorization: Bearer``
with the access token when one is set. Header values never hold line breaks.

Answers: 2xx delivered; 429 (rate or daily limits) and 5xx retried; other 4xx
(forbidden topic, bad token, body too large) permanent.
"""

from __future__ import annotations

import base64

from phoenix_contracts.channels import NtfyConfig

from phoenix_notifier.channels.base import HttpRequest
from phoenix_notifier.channels.chat_format import ChatChannel, http_link
from phoenix_notifier.message import Notice, one_line

PRIORITIES = {
    "down": "5",
    "degraded": "4",
    "flapping": "4",
    "certificate_expiring": "4",
    "recovered": "3",
    "test": "3",
}
TAGS = {
    "down": "red_circle",
    "recovered": "green_circle",
    "degraded": "yellow_circle",
    "certificate_expiring": "closed_lock_with_key",
    "flapping": "orange_circle",
    "test": "test_tube",
}
BODY_LIMIT = 4096  # bytes; ntfy turns longer messages into attachments
WORD_BYTES = 45  # UTF-8 bytes per encoded word: 60 base64 characters, under 75 in all


def encode_header(value: str) -> str:
    """``value`` as is when it is printable ASCII, else RFC 2047 ``=?UTF-8?B?…?=`` words
    (split on character boundaries, separated by spaces, which decoders drop)."""
    value = one_line(value)
    if value.isascii() and value.isprintable() and "=?" not in value:
        return value
    words: list[str] = []
    chunk = b""
    for char in value:
        encoded = char.encode()
        if chunk and len(chunk) + len(encoded) > WORD_BYTES:
            words.append(_word(chunk))
            chunk = b""
        chunk += encoded
    if chunk:
        words.append(_word(chunk))
    return " ".join(words)


def _word(chunk: bytes) -> str:
    return f"=?UTF-8?B?{base64.b64encode(chunk).decode('ascii')}?="


def clip_bytes(value: str, limit: int) -> bytes:
    encoded = value.encode()
    if len(encoded) <= limit:
        return encoded
    return encoded[: limit - 3].decode("utf-8", "ignore").encode() + "…".encode()


class NtfyChannel(ChatChannel):
    type = "ntfy"

    def render(self, notice: Notice, config: NtfyConfig) -> HttpRequest:
        headers = {
            "Content-Type": "text/plain; charset=utf-8",
            "Title": encode_header(notice.title),
            "Priority": PRIORITIES.get(notice.event, "3"),
            "Tags": ",".join(filter(None, (TAGS.get(notice.event), notice.event))),
        }
        link = http_link(notice.monitor_url)
        if link and link.isascii():
            headers["Click"] = link
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        return HttpRequest(
            url=f"{config.server_url.rstrip('/')}/{config.topic}",
            headers=headers,
            body=clip_bytes(notice.text or notice.title, BODY_LIMIT),
        )
