"""One request over one new connection, on a bare asyncio ``Protocol``.

Streams/httpx add buffering layers, locks and a pool; for "connect, send one
request, read one response, close" a Protocol that feeds the parser straight
from ``data_received`` is several times cheaper per check, which is the whole
point of the engine.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter
from typing import cast

from phoenix_platform.netguard import IPAddress

from phoenix_executor.engine.errors import ConnectFailed, ProtocolError, TlsFailed
from phoenix_executor.engine.parser import ResponseParser
from phoenix_executor.engine.tls import certificate_facts


@dataclass(frozen=True, slots=True)
class Exchanged:
    connect_ms: float
    tls_ms: float
    first_byte_ms: float
    cert_expires_at: datetime | None
    cert_issuer: str | None


class _ResponseProtocol(asyncio.Protocol):
    def __init__(self, parser: ResponseParser, done: asyncio.Future[None]) -> None:
        self.parser = parser
        self.done = done
        self.first_byte_at = 0.0

    def data_received(self, data: bytes) -> None:
        if not self.first_byte_at:
            self.first_byte_at = perf_counter()
        if self.done.done():
            return
        try:
            if self.parser.feed(data):
                self.done.set_result(None)
        except ProtocolError as exc:
            self.done.set_exception(exc)

    def eof_received(self) -> bool:
        return False  # let the transport close; connection_lost decides if that was fine

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        try:
            self.parser.feed_eof()
        except ProtocolError as early:
            reason = f"connection lost: {exc}" if exc is not None else str(early)
            self.done.set_exception(ProtocolError(reason))
            return
        self.done.set_result(None)


async def exchange(
    address: IPAddress,
    port: int,
    request: bytes,
    parser: ResponseParser,
    tls: ssl.SSLContext | None,
    server_hostname: str,
) -> Exchanged:
    """Connect to the already-approved ``address``, send ``request``, parse the answer."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    protocol = _ResponseProtocol(parser, done)
    transport: asyncio.BaseTransport | None = None
    started = perf_counter()
    try:
        try:
            transport, _ = await loop.create_connection(lambda: protocol, str(address), port)
        except OSError as exc:
            raise ConnectFailed(f"{address}:{port}: {exc.strerror or exc}") from None
        connected = perf_counter()
        if tls is not None:
            # start_tls (not create_connection(ssl=...)) so TCP and TLS times are separate.
            try:
                upgraded = await loop.start_tls(
                    transport, protocol, tls, server_hostname=server_hostname
                )
            except ssl.SSLError as exc:
                raise TlsFailed(_tls_reason(exc)) from None
            except (OSError, EOFError) as exc:
                raise TlsFailed(f"connection lost during handshake: {exc}") from None
            if upgraded is None:  # only when the loop is closing
                raise TlsFailed("TLS upgrade returned no transport")
            transport = upgraded
        secured = perf_counter()
        # uvloop's transports do not subclass asyncio.WriteTransport: cast, not isinstance.
        cast(asyncio.WriteTransport, transport).write(request)
        await done
        expires, issuer = (None, None)
        if tls is not None:
            expires, issuer = certificate_facts(transport.get_extra_info("ssl_object"))
        first = protocol.first_byte_at or perf_counter()
        return Exchanged(
            connect_ms=(connected - started) * 1000,
            tls_ms=(secured - connected) * 1000,
            first_byte_ms=(first - secured) * 1000,
            cert_expires_at=expires,
            cert_issuer=issuer,
        )
    finally:
        # Always released here, also on cancellation by the caller's timeout: abort()
        # frees the socket at once (no TLS close_notify round trip, no lingering drip).
        if not done.done():
            done.cancel()  # connection_lost must not set an exception nobody will read
        elif not done.cancelled():
            done.exception()  # mark a parse error as seen when a handshake error won
        if transport is not None and not transport.is_closing():
            cast(asyncio.WriteTransport, transport).abort()


def _tls_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    return exc.reason or str(exc)
