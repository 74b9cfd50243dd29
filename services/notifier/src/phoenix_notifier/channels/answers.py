"""What the API channels (push services, pagers, SMS) share beyond :mod:`.base`.

- :func:`refuse`: turn a non-2xx answer into the :class:`TransportError` the base
  rules give it (408/425/429/5xx transient, other 4xx permanent), but with the
  service's own error text and, where the service says so in its body, its own
  retry delay;
- :func:`basic_auth`, whose value a channel lists among its ``secrets()`` so that
  :class:`~.base.HttpChannel` removes it from errors too.
"""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from phoenix_platform.outbound import Fetched

from phoenix_notifier.channels.base import (
    TRANSIENT_STATUSES,
    TransportError,
    retry_after,
)
from phoenix_notifier.message import LINE_BREAKS


def json_object(response: Fetched) -> dict[str, Any]:
    """The answer's body as a JSON object, or ``{}`` (HTML error pages, empty bodies)."""
    try:
        body = msgspec.json.decode(response.body)
    except msgspec.DecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def short(value: object, limit: int = 200) -> str:
    """One line of at most ``limit`` characters, fit for an error message."""
    flat = LINE_BREAKS.sub(" ", str(value)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def raw_detail(response: Fetched) -> str:
    return short(response.body[:200].decode("utf-8", "replace"))


def refuse(response: Fetched, detail: str, *, delay: float | None = None) -> None:
    """Raise for a non-2xx answer; ``delay`` overrides the ``Retry-After`` header."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status in TRANSIENT_STATUSES or status >= 500:
        if delay is None:
            delay = retry_after(response.headers.get("retry-after"))
        raise TransportError(message, retry_after=delay)
    raise TransportError(message, permanent=True)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
