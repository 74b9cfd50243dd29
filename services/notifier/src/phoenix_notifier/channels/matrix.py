"""Matrix channel: one ``m.room.message`` through the client-server API.

``PUT {homeserver_url}/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{txnId}``
with ``Authorization: Bearer <access_token>``. The room id (``!abc:server``; an
alias like ``#ops:server`` is not accepted by this endpoint) is percent-encoded.
The transaction id is derived from the delivery id (and the reminder number),
so a retried delivery reuses it and the homeserver answers with the event it
already created instead of posting the message twice.

Body::

    {"msgtype": "m.text", "body": "<plain text>",
     "format": "org.matrix.custom.html", "formatted_body": "<escaped HTML>"}

Problems (down, degraded, …) are ``m.text``; recoveries and tests are
``m.notice`` (the type meant for automated messages, shown more quietly).
Every user value in ``formatted_body`` is HTML-escaped, line breaks become
``<br>``.

Errors: ``{"errcode": "M_…", "error": "…"}``. 429 ``M_LIMIT_EXCEEDED`` is
transient and waits ``retry_after_ms`` (or the ``Retry-After`` header); 5xx
transient; 401 (``M_UNKNOWN_TOKEN``), 403 (``M_FORBIDDEN``: not in the room),
400, 404 permanent.
"""

from __future__ import annotations

import hashlib
from html import escape
from urllib.parse import quote

import msgspec
from phoenix_contracts.channels import MatrixConfig
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.answers import (
    json_object,
    raw_detail,
    refuse,
    short,
)
from phoenix_notifier.channels.base import HttpChannel, HttpRequest
from phoenix_notifier.message import Notice

QUIET_EVENTS = frozenset({"recovered", "test"})


class MatrixMessage(msgspec.Struct, frozen=True, kw_only=True):
    msgtype: str
    body: str
    format: str = "org.matrix.custom.html"
    formatted_body: str


def transaction_id(notice: Notice) -> str:
    """Stable per delivery (and per reminder): the homeserver deduplicates on it."""
    seed = notice.delivery_id if not notice.resend else f"{notice.delivery_id}#{notice.resend}"
    return "phoenix-" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def html_of(notice: Notice) -> str:
    head = escape(f"{notice.emoji} {notice.title}".strip())
    lines = "<br>".join(escape(line) for line in notice.text.splitlines())
    return f"<p><strong>{head}</strong></p>" + (f"<p>{lines}</p>" if lines else "")


def message_of(notice: Notice) -> MatrixMessage:
    head = f"{notice.emoji} {notice.title}".strip()
    return MatrixMessage(
        msgtype="m.notice" if notice.event in QUIET_EVENTS else "m.text",
        body=f"{head}\n{notice.text}" if notice.text else head,
        formatted_body=html_of(notice),
    )


class MatrixChannel(HttpChannel):
    type = "matrix"

    def render(self, notice: Notice, config: MatrixConfig) -> HttpRequest:
        url = (
            f"{config.homeserver_url.rstrip('/')}/_matrix/client/v3/rooms/"
            f"{quote(config.room_id, safe='')}/send/m.room.message/{transaction_id(notice)}"
        )
        return HttpRequest(
            method="PUT",
            url=url,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {config.access_token}",
            },
            body=msgspec.json.encode(message_of(notice)),
        )

    def check(self, response: Fetched) -> None:
        body = json_object(response)
        detail = ": ".join(
            short(body[k]) for k in ("errcode", "error") if isinstance(body.get(k), str)
        ) or raw_detail(response)
        delay = body.get("retry_after_ms")
        refuse(
            response,
            detail,
            delay=delay / 1000
            if isinstance(delay, int | float) and not isinstance(delay, bool) and delay >= 0
            else None,
        )

    def secrets(self, config: MatrixConfig) -> list[str]:
        return [config.access_token]
