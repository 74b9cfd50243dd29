"""Fixtures for the check tests: contexts with and without loopback allowed, and peers."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from phoenix_executor.checks.base import CheckContext
from phoenix_executor.engine import Engine
from phoenix_platform.netguard import NetGuard, parse_networks

from tests.checks.peers import (
    DnsPeer,
    Peer,
    hold_then_close,
    http_handler,
    leaf_context,
    self_signed,
    serve_loopback,
)

LONG_TEXT = ("lorem ipsum " * 400).encode()

ROUTES = {
    "/welcome": (200, "text/html", b"<h1>Welcome to Phoenix</h1>"),
    "/broken": (500, "text/html", b"<h1>Welcome, but broken</h1>"),
    "/long": (200, "text/plain", LONG_TEXT),
    "/latin1": (200, "text/plain", "Caf\xe9 Welcome".encode("latin-1")),
    "/status": (
        200,
        "application/json",
        b'{"status": "ok", "version": "1.10", "ready": true, "load": 0.25, "count": 42,'
        b' "tags": ["blue", "green", 7], "items": [{"name": "a"}, {"name": "b"}],'
        b' "nothing": null}',
    ),
    "/not-json": (200, "text/html", b"<html>not json</html>"),
    "/nul": (500, "text/plain", b"bro\x00ken"),  # a hostile server's answer
}


def context(guard: NetGuard) -> CheckContext:
    return CheckContext(guard=guard, engine=Engine(guard=guard))


@pytest.fixture(scope="session")
def ctx() -> CheckContext:
    """Loopback allowed, as a self-hoster's PHOENIX_ALLOW_PRIVATE_TARGETS would."""
    return context(NetGuard(parse_networks("127.0.0.0/8,::1/128")))


@pytest.fixture(scope="session")
def guarded_ctx() -> CheckContext:
    """The default guard: SSRF protection on, loopback refused."""
    return context(NetGuard())


@pytest.fixture(scope="session")
async def http_peer() -> AsyncIterator[Peer]:
    peer = await serve_loopback(http_handler(ROUTES))
    yield peer
    await peer.close()


@pytest.fixture(scope="session")
async def tcp_peer() -> AsyncIterator[Peer]:
    peer = await serve_loopback(hold_then_close)
    yield peer
    await peer.close()


@dataclass
class TlsPeers:
    ca_file: str
    valid: Peer
    expired: Peer
    wrong_host: Peer
    self_signed: Peer


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="Phoenix Test CA")


@pytest.fixture(scope="session")
async def tls_peers(
    ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TlsPeers]:
    directory: Path = tmp_path_factory.mktemp("tls")
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    now = dt.datetime.now(dt.UTC)
    certs = {
        "valid": ca.issue_cert("localhost", "127.0.0.1", "::1"),
        "expired": ca.issue_cert(
            "localhost",
            not_before=now - dt.timedelta(days=30),
            not_after=now - dt.timedelta(days=1),
        ),
        "wrong_host": ca.issue_cert("wrong.example"),
    }
    peers: dict[str, Peer] = {}
    for name, cert in certs.items():
        peers[name] = await serve_loopback(hold_then_close, leaf_context(cert))
    peers["self_signed"] = await serve_loopback(
        hold_then_close, self_signed(directory, "localhost")
    )
    yield TlsPeers(ca_file=str(ca_file), **peers)
    for peer in peers.values():
        await peer.close()


@pytest.fixture(scope="session")
async def dns_peer() -> AsyncIterator[DnsPeer]:
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(DnsPeer, local_addr=("127.0.0.1", 0))
    yield peer
    transport.close()


@pytest.fixture
def silent_udp_port() -> Iterator[int]:
    """A bound UDP port that never answers: a DNS server that times out."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
