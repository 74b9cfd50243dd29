"""Real local peers the stack talks to: an HTTP target we can break, a webhook sink."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Target(_Server):
    """Answers every GET with ``status`` (switchable) and counts the requests."""

    def __init__(self) -> None:
        self.status = 200
        self.hits = 0
        self.fail_every = 0  # when set, every n-th request answers 500 (a blip)
        self.failures_served = 0
        self.headers: list[dict[str, str]] = []  # of every request, in order
        super().__init__(_TargetHandler)

    def status_for_next(self) -> int:
        self.hits += 1
        if self.fail_every and self.hits % self.fail_every == 0:
            self.failures_served += 1
            return 500
        return self.status


class WebhookSink(_Server):
    """Records every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        super().__init__(_SinkHandler)

    def events(self) -> list[str]:
        return [body["event"] for body in self.received]

    def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.received)


class _TargetHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        owner: Target = self.server.owner  # type: ignore[attr-defined]
        owner.headers.append(dict(self.headers))
        status = owner.status_for_next()
        body = b"ok" if status < 400 else b"broken"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _SinkHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        owner: WebhookSink = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length", "0"))
        owner.received.append(json.loads(self.rfile.read(length)))
        owner.headers.append(dict(self.headers))
        owner.paths.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class Listener:
    """A TCP port that counts whoever connects (an attacker's server, any protocol)
    and hangs up on them at once."""

    def __init__(self) -> None:
        self.connections = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self._open = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _accept(self) -> None:
        while self._open:
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._open = False
        self._thread.join()
        self._socket.close()
