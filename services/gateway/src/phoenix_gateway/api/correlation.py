"""A correlation id for every HTTP request: taken from ``X-Request-Id`` when it is
sane, else a new one; bound to every log line and command, and echoed back."""

from __future__ import annotations

import re

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import bind_correlation

HEADER = b"x-request-id"
_SANE = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


def correlation_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER, b"")
        # A client-chosen id is only trusted as a label, and only if harmless in logs.
        correlation = given.decode() if _SANE.match(given) else uuid7()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (HEADER, correlation.encode())]
            await send(message)

        with bind_correlation(correlation):
            await app(scope, receive, send_with_id)

    return middleware
