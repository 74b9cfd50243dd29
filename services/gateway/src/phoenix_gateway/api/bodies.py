"""One ceiling for every request body (``PHOENIX_MAX_BODY_BYTES``), before anything reads it.

Wrapped around Litestar's router, so it runs before routing, authentication and
every middleware (the idempotency one reads bodies too): no code path can hold
more than the limit of one request's body, whatever the route or headers.

- A declared ``Content-Length`` above the limit is answered 413 at once; the
  body is never read (the server discards it).
- A body without a declared length (``Transfer-Encoding: chunked``, with or
  without a ``Content-Length`` beside it) is read here, up to the limit, and
  handed on whole; one byte more is a 413. Reading it first, rather than counting
  while the route reads, gives every route the same answer, even one that would
  never have read the body.
- The chunks of a declared body are counted too, in case a server ever hands on
  more than it declared.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, Scope, Send

SETTING = "PHOENIX_MAX_BODY_BYTES"


class BodyTooLarge(HTTPException):
    status_code = 413


def too_large_detail(limit: int) -> str:
    return f"the request body is larger than {limit} bytes ({SETTING})"


def body_limit(app: ASGIApp, limit: int) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        # Transfer-Encoding wins over a Content-Length sent along (RFC 9112 6.3), as it
        # does in the server: the declared length of such a request says nothing.
        if b"transfer-encoding" in headers:
            try:
                body = await read_body(receive, limit)
            except BodyTooLarge:
                await _problem(send, scope, 413, too_large_detail(limit))
                return
            await app(scope, _replaying(body, receive), send)
            return
        declared = headers.get(b"content-length")
        if declared is None:
            await app(scope, receive, send)  # HTTP/1.1: no length and no encoding, no body
            return
        if not declared.isdigit():
            await _problem(
                send, scope, 400, "Content-Length must be a number of bytes", "Content-Length"
            )
            return
        if int(declared) > limit:
            await _problem(send, scope, 413, too_large_detail(limit))
            return
        await app(scope, _counting(receive, limit), send)

    return middleware


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, refusing (``BodyTooLarge``) as soon as it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message: Any = await receive()
        if message["type"] != "http.request":
            break  # the client went away; what came is all there is
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(detail=too_large_detail(limit))
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    return b"".join(chunks)


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Any:
        nonlocal size
        message: Any = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                # Raised inside the app, Litestar's problem handler answers it.
                raise BodyTooLarge(detail=too_large_detail(limit))
        return message

    return counted


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # afterwards: the disconnect, for streams that wait on it

    return replay


async def _problem(send: Send, scope: Scope, status: int, detail: str, field: str = "body") -> None:
    # Litestar's problem handler is not reachable from out here: the same shape, by hand.
    body = msgspec.json.encode(
        {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "instance": scope["path"],
            "errors": [{"field": field, "message": detail}],
        }
    )
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
