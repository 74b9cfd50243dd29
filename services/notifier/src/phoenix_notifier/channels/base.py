"""What every channel plug-in is, and the HTTP plumbing most of them share.

A plug-in has a ``type`` (a key of ``phoenix_contracts.channels.CONFIGS``) and
``send(notice, config)`` where ``config`` is that type's typed struct with its
secrets already opened. HTTP channels only *render* (pure: notice + config →
requests, tested byte for byte) and let :class:`HttpChannel` send through the
SSRF guard and classify the answer:

- 2xx: delivered;
- 408, 425, 429, 5xx, timeouts, refused connections: transient, retried
  (a ``Retry-After`` is honoured);
- any other 4xx, a refused target, a bad config: permanent, not retried.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx
import msgspec
from phoenix_contracts.channels import SECRETS
from phoenix_platform.netguard import NetGuard, TargetRefused
from phoenix_platform.outbound import Fetched, fetch

from phoenix_notifier.message import Notice

USER_AGENT = "Phoenix-Uptime/0.1"
REDACTED = "[redacted]"
URL_PART_MIN = 8  # shorter query values could be anything ("1", "true")
PATH_SEGMENT_MIN = 16  # "services", "webhooks" are not secrets; ids and tokens are long
TRANSIENT_STATUSES = frozenset({408, 425, 429})


class TransportError(Exception):
    """Sending failed. ``permanent``: retrying cannot help (bad config, most 4xx).
    ``retry_after``: the receiver said when to come back (seconds)."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Channel(Protocol):
    type: ClassVar[str]

    async def send(self, notice: Notice, config: Any) -> None:
        """Deliver ``notice``; raise :class:`TransportError` on failure."""


class HttpRequest(msgspec.Struct, frozen=True, kw_only=True):
    method: str = "POST"
    url: str
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    body: bytes = b""


def json_request(url: str, payload: object, headers: dict[str, str] | None = None) -> HttpRequest:
    return HttpRequest(
        url=url,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=msgspec.json.encode(payload),
    )


class HttpTransport:
    """One guarded request; network failures become transient :class:`TransportError`."""

    def __init__(self, client: httpx.AsyncClient, guard: NetGuard) -> None:
        self._client = client
        self._guard = guard

    async def send(self, request: HttpRequest) -> Fetched:
        try:
            return await fetch(
                self._client,
                self._guard,
                request.method,
                request.url,
                headers={"User-Agent": USER_AGENT, **request.headers},
                content=request.body or None,
                max_body=16_384,
            )
        except TargetRefused as exc:
            raise TransportError(str(exc), permanent=True) from exc
        except httpx.InvalidURL as exc:
            raise TransportError(f"invalid URL: {exc}", permanent=True) from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc


def check_status(response: Fetched) -> None:
    """Raise the :class:`TransportError` a non-2xx answer means."""
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = response.body[:200].decode("utf-8", "replace").strip()
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status in TRANSIENT_STATUSES or status >= 500:
        raise TransportError(message, retry_after=retry_after(response.headers.get("retry-after")))
    raise TransportError(message, permanent=True)


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)  # delta-seconds (some services send fractions)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def secrets_in(channel_type: str, config: Any) -> list[str]:
    """Every secret string of ``config``. For URLs (chat webhooks carry their token in
    them) also the path and query, every query value and every long path segment:
    an error may quote any of those without the rest."""
    found: set[str] = set()
    parts_found: set[str] = set()
    for field in SECRETS.get(channel_type, frozenset()):
        value = getattr(config, field, "")
        if not isinstance(value, str) or len(value) < 4:
            continue
        found.add(value)
        if field.endswith("url"):
            parts = urlsplit(value)
            parts_found.add(parts.path + (f"?{parts.query}" if parts.query else ""))
            parts_found.update(v for _, v in parse_qsl(parts.query))
            parts_found.update(s for s in parts.path.split("/") if len(s) >= PATH_SEGMENT_MIN)
    found.update(s for s in parts_found if len(s) >= URL_PART_MIN)
    return sorted(found, key=len, reverse=True)


def redact(message: str, secrets: Iterable[str]) -> str:
    # Longest first: a secret that contains another is removed whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        message = message.replace(secret, REDACTED)
    return message


class HttpChannel:
    """A channel that is one or more HTTP requests. Subclasses implement ``render``.

    Whatever fails, the error that leaves ``send`` carries none of the config's
    secrets (``secrets()``), prefixed with the channel type when ``name_errors``.
    """

    type: ClassVar[str]
    name_errors: ClassVar[bool] = False

    def __init__(self, transport: HttpTransport) -> None:
        self._transport = transport

    def render(self, notice: Notice, config: Any) -> HttpRequest | Sequence[HttpRequest]:
        raise NotImplementedError

    def check(self, response: Fetched) -> None:
        """Decide whether the service accepted it; override for APIs that answer 200 + error."""
        check_status(response)

    def secrets(self, config: Any) -> list[str]:
        """Every secret value of ``config``; override to add credentials derived from them."""
        return secrets_in(self.type, config)

    async def deliver(self, notice: Notice, config: Any) -> None:
        """Send every rendered request (override to change how many must succeed)."""
        rendered = self.render(notice, config)
        for request in [rendered] if isinstance(rendered, HttpRequest) else rendered:
            self.check(await self._transport.send(request))

    async def send(self, notice: Notice, config: Any) -> None:
        try:
            await self.deliver(notice, config)
        except TransportError as exc:
            message = f"{self.type}: {exc}" if self.name_errors else str(exc)
            # ``from None``: the original (unredacted) error is not chained into logs.
            raise TransportError(
                redact(message, self.secrets(config)),
                permanent=exc.permanent,
                retry_after=exc.retry_after,
            ) from None
