"""The benchmark's webhook receiver: when did each alert arrive, and for what.

A threaded HTTP server on loopback (``start_sink()``), independent of any event loop, so a
busy orchestrator does not delay the receive times. Each POST is read whole, stamped with
``time.time()``, answered 200 at once, and its body parsed as the notifier's webhook
payload (``phoenix_notifier.channels.webhook.payload_of``: ``event``, ``monitor.id``,
``occurred_at`` are what a :class:`~phoenix_bench.record.Notification` keeps). A body
that does not parse is answered 400 and counted in ``rejected``: the benchmark should see
none. Deliveries are kept as they come, resends and duplicates included.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import msgspec

from phoenix_bench.record import Notification


class _Monitor(msgspec.Struct):
    id: str


class _Payload(msgspec.Struct):
    """The part of the webhook payload the benchmark reads; other fields are ignored."""

    event: str
    monitor: _Monitor
    occurred_at: datetime


_decode = msgspec.json.Decoder(_Payload).decode


def parse(body: bytes, received: float) -> Notification:
    """A webhook body → :class:`Notification`; raises ``msgspec.DecodeError`` if it is not one."""
    payload = _decode(body)
    occurred = payload.occurred_at
    if occurred.tzinfo is None:  # Phoenix writes UTC with an offset; never local time
        occurred = occurred.replace(tzinfo=UTC)
    return Notification(
        monitor_id=payload.monitor.id,
        event=payload.event,
        received=received,
        occurred=occurred.timestamp(),
    )


class Sink:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._notifications: list[Notification] = []
        self.rejected = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def _received(self, body: bytes, received: float) -> bool:
        try:
            notification = parse(body, received)
        except (msgspec.DecodeError, ValueError):
            with self._lock:
                self.rejected += 1
            return False
        with self._lock:
            self._notifications.append(notification)
        return True

    def notifications(self) -> list[Notification]:
        """What arrived so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._notifications)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Sink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _handler(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the notifier may reuse connections

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            ok = sink._received(body, time.time())
            self._answer(200 if ok else 400)

        def do_GET(self) -> None:
            self._answer(404)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # no access log on stderr

    return Handler


def start_sink() -> Sink:
    """A running sink on a free loopback port; POST webhooks to ``.url``."""
    return Sink()
