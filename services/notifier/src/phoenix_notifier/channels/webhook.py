"""Webhook channel: a JSON body to the user's URL, optionally signed.

Payload (stable, documented in docs/api.md)::

    {"event": "down", "title": "...", "text": "...",
     "monitor": {"id", "name", "url"}, "status": "down", "previous_status": "up",
     "reason": "...", "occurred_at": "...", "incident_id": "...", "resend": 0,
     "delivery_id": "...", "alert_rule_id": "..."}

With a ``secret``, ``X-Phoenix-Signature: t=<unix seconds>,v1=<hex>`` where
``v1`` is HMAC-SHA256(secret, "<t>.<raw body>"): the receiver recomputes it
and refuses old timestamps, which stops forgeries and replays.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import msgspec
from phoenix_contracts.channels import WebhookConfig
from phoenix_contracts.sealed import is_secret_header

from phoenix_notifier.channels.base import HttpChannel, HttpRequest, HttpTransport
from phoenix_notifier.message import Notice

SIGNATURE_HEADER = "X-Phoenix-Signature"


class MonitorPart(msgspec.Struct, frozen=True):
    id: str
    name: str
    url: str


class WebhookPayload(msgspec.Struct, frozen=True, kw_only=True):
    event: str
    title: str
    text: str
    monitor: MonitorPart
    status: str
    previous_status: str
    reason: str
    occurred_at: str
    incident_id: str
    resend: int
    delivery_id: str
    alert_rule_id: str


def payload_of(notice: Notice) -> bytes:
    return msgspec.json.encode(
        WebhookPayload(
            event=notice.event,
            title=notice.title,
            text=notice.text,
            monitor=MonitorPart(notice.monitor_id, notice.monitor_name, notice.monitor_url),
            status=notice.status,
            previous_status=notice.previous_status,
            reason=notice.reason,
            occurred_at=notice.occurred_at.isoformat(),
            incident_id=notice.incident_id,
            resend=notice.resend,
            delivery_id=notice.delivery_id,
            alert_rule_id=notice.alert_rule_id,
        )
    )


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class WebhookChannel(HttpChannel):
    type = "webhook"

    def __init__(self, transport: HttpTransport, clock: Callable[[], float] = time.time) -> None:
        super().__init__(transport)
        self._clock = clock

    def secrets(self, config: WebhookConfig) -> list[str]:
        # Credential headers too: an error quoting one must not carry it.
        found = (v for n, v in config.headers.items() if is_secret_header(n) and len(v) >= 4)
        return [*super().secrets(config), *found]

    def render(self, notice: Notice, config: WebhookConfig) -> HttpRequest:
        body = payload_of(notice)
        headers = {
            **config.headers,
            "Content-Type": "application/json",
            "Idempotency-Key": notice.delivery_id,
        }
        if config.secret:
            headers[SIGNATURE_HEADER] = signature(config.secret, int(self._clock()), body)
        return HttpRequest(method=config.method, url=config.url, headers=headers, body=body)
