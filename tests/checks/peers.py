"""Real local peers for the check tests: HTTP, TLS, TCP and DNS servers on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from phoenix_contracts.monitors import MonitorSpec

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Route = tuple[int, str, bytes]  # status, content type, body


def make_spec(type: Any, **options: Any) -> MonitorSpec:
    return MonitorSpec(name=f"test {type}", type=type, **{"timeout": 5.0, **options})


async def serve_loopback(handler: Handler, tls: ssl.SSLContext | None = None) -> Peer:
    """A server on 127.0.0.1 and, where possible, on ::1 with the same port."""
    first = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    port = first.sockets[0].getsockname()[1]
    servers = [first]
    with contextlib.suppress(OSError):  # "localhost" may resolve to ::1 first
        servers.append(await asyncio.start_server(handler, "::1", port, ssl=tls))
    return Peer(port, servers)


@dataclass
class Peer:
    port: int
    servers: list[asyncio.Server]

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()


def http_handler(routes: dict[str, Route]) -> Handler:
    """HTTP/1.1 answering GET paths from ``routes``, one request per connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            status, content_type, body = routes.get(path, (404, "text/plain", b"not found"))
            writer.write(
                f"HTTP/1.1 {status} Whatever\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        finally:
            writer.close()

    return handle


async def hold_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accepts, waits for the client to hang up (handshake failures included), closes."""
    with contextlib.suppress(OSError, ConnectionError, ssl.SSLError):
        await reader.read(1)
    writer.close()


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def leaf_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    """A server context presenting a certificate issued by a trustme CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def self_signed(directory: Path, name: str) -> ssl.SSLContext:
    """A server context with a self-signed certificate for ``name``."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "self.pem", directory / "self.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


ZONE: dict[tuple[str, str], list[str]] = {
    ("example.test.", "A"): ["192.0.2.10", "192.0.2.11"],
    ("example.test.", "AAAA"): ["2001:db8:0:0::10"],
    ("www.example.test.", "CNAME"): ["example.test."],
    ("example.test.", "MX"): ["10 mail.example.test.", "20 Backup.Example.Test."],
    ("example.test.", "TXT"): ['"v=spf1 " "-all"', '"hello world"'],
    ("example.test.", "NS"): ["ns1.example.test.", "ns2.example.test."],
    ("mail.example.test.", "A"): ["192.0.2.25"],
}


@dataclass
class DnsPeer(asyncio.DatagramProtocol):
    """A UDP DNS server answering from ``ZONE``; records every query it gets."""

    queries: list[str] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None
    port: int = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's UDP transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)
        self.port = transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name, kind = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
        self.queries.append(f"{name} {kind}")
        response = dns.message.make_response(query)
        if (name, kind) in ZONE:
            rrset = dns.rrset.from_text(question.name, 60, "IN", kind, *ZONE[(name, kind)])
            response.answer.append(rrset)
        elif all(known != name for known, _ in ZONE):
            response.set_rcode(dns.rcode.NXDOMAIN)
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)
