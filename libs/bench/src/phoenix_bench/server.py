"""The built-in target when nginx is absent: fixed 200 answers over HTTP and HTTPS.

Run in its own process (``python -m phoenix_bench.server HTTP HTTPS CHAIN KEY``) so its CPU
is not counted against the client being measured.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from typing import cast

RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n"
    b"Connection: close\r\n\r\nok\n"
)


class _OneShot(asyncio.Protocol):
    def __init__(self) -> None:
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if b"\r\n\r\n" in self._buf and self._transport is not None:
            self._transport.write(RESPONSE)
            self._transport.close()  # Connection: close, like nginx with keepalive_timeout 0
            self._transport = None


async def serve(http_port: int, https_port: int, chain: str, key: str) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    context.options |= ssl.OP_NO_TICKET  # like ssl_session_tickets off: full handshakes
    loop = asyncio.get_running_loop()
    plain = await loop.create_server(_OneShot, "127.0.0.1", http_port, backlog=4096)
    secure = await loop.create_server(_OneShot, "127.0.0.1", https_port, ssl=context, backlog=4096)
    async with plain, secure:
        await asyncio.Event().wait()


def main() -> None:
    http_port, https_port, chain, key = sys.argv[1:5]
    try:
        import uvloop

        uvloop.run(serve(int(http_port), int(https_port), chain, key))
    except ImportError:  # pragma: no cover
        asyncio.run(serve(int(http_port), int(https_port), chain, key))


if __name__ == "__main__":
    main()
