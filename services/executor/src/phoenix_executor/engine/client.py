"""The check engine: one request per new connection, SSRF-checked at every hop."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter
from typing import NamedTuple

from phoenix_contracts.sealed import is_secret_header
from phoenix_platform.netguard import NetGuard

from phoenix_executor.engine.connection import exchange
from phoenix_executor.engine.errors import TooManyRedirects
from phoenix_executor.engine.parser import ResponseParser
from phoenix_executor.engine.request import Target, serialise
from phoenix_executor.engine.resolver import CachingResolver
from phoenix_executor.engine.tls import insecure_context, verifying_context

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class Timings(NamedTuple):
    """Phases of the last hop in ms; ``total_ms`` covers the whole call, redirects included."""

    dns_ms: float
    connect_ms: float
    tls_ms: float
    first_byte_ms: float
    total_ms: float


@dataclass(frozen=True, slots=True)
class EngineResponse:
    status_code: int
    headers: list[tuple[str, str]]
    body: bytes  # at most max_body bytes
    timings: Timings
    tls_cert_expires_at: datetime | None
    tls_issuer: str | None
    url: str = ""  # the URL that answered, after redirects
    redirects: int = 0
    body_truncated: bool = False  # the body was longer than max_body; reading stopped there

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


class Engine:
    def __init__(
        self,
        *,
        guard: NetGuard,
        verify_context: ssl.SSLContext | None = None,
        max_body: int = 1_048_576,
        dns_ttl: float = 30.0,
        user_agent: str = "Phoenix-Uptime/0.1",
    ) -> None:
        self.resolver = CachingResolver(guard, dns_ttl)
        # Built once: an SSLContext costs ~28 ms (CA bundle), a handshake with it ~1 ms.
        self._verifying = verify_context if verify_context is not None else verifying_context()
        self._insecure = insecure_context()
        self.max_body = max_body
        self.user_agent = user_agent

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        max_redirects: int = 0,
        verify_tls: bool = True,
    ) -> EngineResponse:
        """Send one request; follow up to ``max_redirects`` redirects by hand.

        Raises :class:`EngineError` subclasses and ``TargetRefused``. Has no timeout
        of its own: wrap it in ``asyncio.timeout``; cancellation closes the connection.
        """
        started = perf_counter()
        method = method.upper()
        target = Target.parse(url)
        first_origin = target.origin
        headers = dict(headers or {})
        hop = 0
        while True:
            if target.origin != first_origin:
                # Credentials (any header the monitor's secrets are made of) are bound to
                # the first origin: a redirect must not carry them to another host.
                headers = {k: v for k, v in headers.items() if not is_secret_header(k)}
            response = await self._once(method, target, headers, body, verify_tls, started, hop)
            location = response.header("location")
            if response.status_code not in REDIRECT_CODES or location is None or not max_redirects:
                return response
            if hop >= max_redirects:
                raise TooManyRedirects(f"more than {max_redirects} redirects (last {target.url})")
            target = target.join(location)  # re-parsed: only http/https, then re-resolved
            hop += 1
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                # What browsers (and httpx) do: the follow-up is a GET without the body.
                method = "GET" if method != "HEAD" else method
                body = None
                headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}

    async def _once(
        self,
        method: str,
        target: Target,
        headers: dict[str, str],
        body: bytes | None,
        verify_tls: bool,
        started: float,
        hop: int,
    ) -> EngineResponse:
        resolving = perf_counter()
        address = await self.resolver.resolve(target.host, target.port)
        dns_ms = (perf_counter() - resolving) * 1000
        raw = serialise(method, target, headers, body, self.user_agent)
        parser = ResponseParser(self.max_body, head_request=method == "HEAD")
        context = None
        if target.scheme == "https":
            context = self._verifying if verify_tls else self._insecure
        # Connect to the address the guard approved; Host and SNI keep the name.
        done = await exchange(address, target.port, raw, parser, context, target.host)
        return EngineResponse(
            status_code=parser.status,
            headers=parser.headers,
            body=bytes(parser.body),
            timings=Timings(
                dns_ms=round(dns_ms, 3),
                connect_ms=round(done.connect_ms, 3),
                tls_ms=round(done.tls_ms, 3),
                first_byte_ms=round(done.first_byte_ms, 3),
                total_ms=round((perf_counter() - started) * 1000, 3),
            ),
            tls_cert_expires_at=done.cert_expires_at,
            tls_issuer=done.cert_issuer,
            url=target.url,
            redirects=hop,
            body_truncated=parser.truncated,
        )
