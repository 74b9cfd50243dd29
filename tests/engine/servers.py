"""Tiny local servers for the engine tests: each test says exactly what bytes come back."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from phoenix_platform.netguard import IPAddress, NetGuard, parse_networks

Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class Served:
    port: int
    requests: list[bytes] = field(default_factory=list)  # each request head, as received
    closed_by_client: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def serve(
    handler: Handler, *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"
) -> AsyncIterator[Served]:
    served = Served(port=0)

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            served.requests.append(head)
            await handler(head, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            served.closed_by_client.set()
        finally:
            writer.close()

    server = await asyncio.start_server(on_client, host, 0, ssl=tls)
    served.port = server.sockets[0].getsockname()[1]
    try:
        yield served
    finally:
        server.close()


def fixed(raw: bytes) -> Handler:
    """A handler that sends ``raw`` and closes."""

    async def handler(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(raw)
        await w.drain()

    return handler


def ok(body: bytes = b"hello", extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def path_of(head: bytes) -> str:
    return head.split(b" ", 2)[1].decode()


def loopback_guard() -> NetGuard:
    return NetGuard(parse_networks("127.0.0.0/8"))


class CountingGuard(NetGuard):
    """Resolves made-up names to loopback and counts how often it is asked."""

    def __init__(self, names: dict[str, IPAddress], allowed: str = "127.0.0.0/8") -> None:
        super().__init__(parse_networks(allowed))
        self.names = names
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> IPAddress:
        self.calls.append(host)
        if host in self.names:
            address = self.names[host]
            self.check(address)
            return address
        return await super().resolve(host, port)


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
