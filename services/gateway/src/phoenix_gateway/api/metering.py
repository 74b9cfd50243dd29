"""``phoenix_http_requests`` and ``phoenix_http_request_duration_seconds`` for every request.

Wrapped around Litestar's router (not in the per-route middleware stack, which
an unknown path never reaches), so 404s and 405s are counted too. The route
label is the matched *template* Litestar's router leaves in
``scope["path_template"]`` (``/api/v1/monitors/{monitor_id}``), never the raw
path: one series per route, whatever ids callers send. No route matched:
``unmatched``. Methods outside the standard few are ``other`` (a client picks them).

A request is counted, and its duration observed, when its response *starts*
(status and headers sent): the time to answer. For ordinary responses the body
follows at once; for the live event stream (SSE) the body flows for as long as
the client stays, and that lifetime is the client's choice, not latency: it
would sit in the +Inf bucket and pull every quantile of the route up. So an
open stream counts once, with the time it took to open.
"""

from __future__ import annotations

import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from phoenix_platform import metrics

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def http_metrics(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = False

        def record(status: int) -> None:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = scope.get("path_template") or UNMATCHED
            metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
            metrics.HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)

        async def send_and_record(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                record(message["status"])
            await send(message)

        try:
            await app(scope, receive, send_and_record)
        except Exception:
            if not answered:
                record(500)  # the server answers 500 for an app that raised
            raise

    return middleware
