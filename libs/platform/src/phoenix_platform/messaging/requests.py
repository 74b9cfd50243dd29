"""Request/reply over core NATS: commands to their owner, auth checks.

The responder side decodes, calls the handler and always answers: a request
that cannot be decoded, or carries text no store can hold (a NUL, a lone
surrogate: a script may send any bytes here, not only the gateway), gets
``Rejected(code="invalid")`` naming the field, a handler crash gets
``Rejected(code="unavailable")`` (and a log line), so a caller never waits
for a timeout because of bad input.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from faststream.nats import NatsBroker, NatsMessage
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from phoenix_contracts.base import Rejected

from phoenix_platform.logging import bind_correlation, get_logger
from phoenix_platform.messaging.codec import encode
from phoenix_platform.text import find_unstorable_json

T = TypeVar("T")
log = get_logger(__name__)

_FIELD = re.compile(r"at `\$\.([A-Za-z0-9_.\[\]]+)`")


def rejection_for(exc: msgspec.ValidationError | msgspec.DecodeError) -> Rejected:
    match = _FIELD.search(str(exc))
    return Rejected(code="invalid", message=str(exc), field=match.group(1) if match else None)


def responder(
    broker: NatsBroker,
    subject: str,
    *,
    queue: str,
    kind: Any,
    handler: Callable[[Any], Awaitable[Any]],
    max_workers: int = 8,
) -> None:
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(kind)

    @broker.subscriber(subject, queue=queue, max_workers=max_workers)
    async def respond(msg: NatsMessage) -> bytes:
        raw = msg.raw_message
        if unstorable := find_unstorable_json(raw.data):
            return encode(
                Rejected(code="invalid", field=unstorable.field, message=unstorable.reason)
            )
        try:
            request = decoder.decode(raw.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return encode(rejection_for(exc))
        with bind_correlation(getattr(request, "correlation_id", "") or msg.correlation_id):
            try:
                return encode(await handler(request))
            except Exception:
                log.exception("request.failed", subject=raw.subject)
                return encode(Rejected(code="unavailable", message="internal error"))


class Unavailable(Exception):
    """Nobody answered in time: the owning service is down or overloaded."""


async def request(
    nc: Client, subject: str, message: Any, reply_kind: type[T] | Any, timeout: float = 5.0
) -> Any:
    try:
        reply = await nc.request(subject, encode(message), timeout=timeout)
    except (NatsTimeout, NoRespondersError, TimeoutError) as exc:
        raise Unavailable(subject) from exc
    return msgspec.json.decode(reply.data, type=reply_kind)
