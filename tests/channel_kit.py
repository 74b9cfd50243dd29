"""What channel tests share: a notification to send, and a real local HTTP receiver
that records exactly what arrived (method, path, query, headers, raw body)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from phoenix_contracts.notifications import MonitorRef, NotificationJob
from phoenix_notifier.channels.base import HttpTransport
from phoenix_notifier.message import Notice, notice_of
from phoenix_platform.netguard import NetGuard, parse_networks

OCCURRED = datetime(2024, 5, 17, 8, 30, 15, 250000, tzinfo=UTC)


def job(**changes: Any) -> NotificationJob:
    fields: dict[str, Any] = {
        "key": "event-9:rule-3:channel-2",
        "organization_id": "org-1",
        "channel_id": "channel-2",
        "channel_type": "webhook",
        "alert_rule_id": "rule-3",
        "event": "down",
        "monitor": MonitorRef(id="monitor-1", name="Shop", url="https://shop.example.com/"),
        "status": "down",
        "previous_status": "up",
        "reason": "timeout: the request timed out",
        "occurred_at": OCCURRED,
        "cause_event_id": "event-9",
        "incident_id": "incident-4",
    }
    fields.update(changes)
    return NotificationJob(**fields)


def notice(**changes: Any) -> Notice:
    return notice_of(job(**changes))


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


class Receiver:
    """A real HTTP server on loopback. ``replies`` are served in order (the last one
    repeats); ``hold`` makes it wait before answering (to test slow or dying senders)."""

    def __init__(self, *replies: Reply) -> None:
        self.received: list[Received] = []
        self.replies = list(replies) or [Reply()]
        self.hold = threading.Event()
        self.hold.set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                owner.received.append(
                    Received(
                        method=self.command,
                        path=parts.path,
                        query=parse_qs(parts.query),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                owner.hold.wait(30)
                index = min(len(owner.received), len(owner.replies)) - 1
                reply = owner.replies[index]
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_POST = do_PUT = do_PATCH = do_GET = _serve

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval: close() waits for it (the default costs 0.5 s a receiver).
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)

    def close(self) -> None:
        self.hold.set()
        self._server.shutdown()
        self._server.server_close()


@asynccontextmanager
async def loopback_transport() -> AsyncIterator[HttpTransport]:
    """The notifier's real transport, allowed to reach loopback receivers."""
    async with httpx.AsyncClient(timeout=5, follow_redirects=False, trust_env=False) as client:
        yield HttpTransport(client, NetGuard(parse_networks("127.0.0.0/8")))
