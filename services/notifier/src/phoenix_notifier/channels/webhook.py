"""Webhook channel: a JSON POST (or PUT/PATCH) to the user's URL, through the SSRF guard.

Payload (stable, documented in docs/api.md)::

    {"event": "down", "monitor": {"id", "name", "url"}, "status": "down",
     "previous_status": "up", "reason": "...", "occurred_at": "...",
     "delivery_id": "...", "alert_rule_id": "..."}
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
from phoenix_contracts.notifications import NotificationJob
from phoenix_platform.netguard import NetGuard, TargetRefused
from phoenix_platform.outbound import fetch

from phoenix_notifier.channels.base import TransportError


class WebhookPayload(msgspec.Struct, frozen=True):
    event: str
    monitor: dict[str, str]
    status: str
    previous_status: str
    reason: str
    occurred_at: str
    delivery_id: str
    alert_rule_id: str


def payload_of(job: NotificationJob) -> bytes:
    return msgspec.json.encode(
        WebhookPayload(
            event=job.event,
            monitor={"id": job.monitor.id, "name": job.monitor.name, "url": job.monitor.url},
            status=job.status,
            previous_status=job.previous_status,
            reason=job.reason,
            occurred_at=job.occurred_at.isoformat(),
            delivery_id=job.key,
            alert_rule_id=job.alert_rule_id,
        )
    )


class WebhookChannel:
    type = "webhook"

    def __init__(self, client: httpx.AsyncClient, guard: NetGuard) -> None:
        self._client = client
        self._guard = guard

    def validate(self, config: dict[str, Any]) -> str | None:
        url = config.get("url")
        return (
            None
            if isinstance(url, str) and url.startswith(("http://", "https://"))
            else "url is required"
        )

    async def send(self, job: NotificationJob, config: dict[str, Any]) -> None:
        if (problem := self.validate(config)) is not None:
            raise TransportError(problem, permanent=True)
        try:
            response = await fetch(
                self._client,
                self._guard,
                str(config.get("method", "POST")),
                str(config["url"]),
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "Phoenix-Uptime/0.1",
                    "Idempotency-Key": job.key,
                },
                content=payload_of(job),
                max_body=4096,
            )
        except TargetRefused as exc:
            raise TransportError(str(exc), permanent=True) from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransportError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise TransportError(f"HTTP {response.status_code}", permanent=True)
