"""HTTPS: verified with one shared context, certificate facts reported."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl

import pytest
import trustme
from cryptography import x509
from phoenix_executor.engine import Engine, TlsFailed

from tests.engine.servers import CountingGuard, loopback_guard, ok, serve

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA(organization_name="Phoenix Test CA")


@pytest.fixture(scope="module")
def leaf(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert("status.test", "127.0.0.1")


@pytest.fixture
def server_context(leaf: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def hello(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    w.write(ok(b"secure"))


async def test_https_with_a_trusted_ca_reports_the_certificate_expiry_and_issuer(
    ca: trustme.CA, leaf: trustme.LeafCert, server_context: ssl.SSLContext
) -> None:
    seen_sni: list[str | None] = []
    server_context.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    guard = CountingGuard({"status.test": ipaddress.ip_address("127.0.0.1")})
    engine = Engine(guard=guard, verify_context=client_context(ca))
    async with serve(hello, tls=server_context) as served:
        response = await engine.request("GET", f"https://status.test:{served.port}/")
    expected = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    assert (response.status_code, response.body) == (200, b"secure")
    assert response.tls_cert_expires_at == expected.not_valid_after_utc.replace(microsecond=0)
    assert response.tls_issuer is not None
    assert "Phoenix Test CA" in response.tls_issuer
    assert seen_sni == ["status.test"]  # connected to 127.0.0.1, SNI kept the name
    assert response.timings.tls_ms > 0


async def test_a_certificate_for_another_name_fails_verification(
    ca: trustme.CA, server_context: ssl.SSLContext
) -> None:
    guard = CountingGuard({"other.test": ipaddress.ip_address("127.0.0.1")})
    engine = Engine(guard=guard, verify_context=client_context(ca))
    async with serve(hello, tls=server_context) as served:
        with pytest.raises(TlsFailed, match="verify failed"):
            await engine.request("GET", f"https://other.test:{served.port}/")


async def test_a_self_signed_certificate_fails_verification_but_passes_without_it(
    ca: trustme.CA,
) -> None:
    # The CA's own certificate is self-signed: serve it as the site certificate.
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with ca.cert_pem.tempfile() as cert, ca.private_key_pem.tempfile() as key:
        context.load_cert_chain(cert, key)
    engine = Engine(guard=loopback_guard())  # the system trust store, as in production
    async with serve(hello, tls=context) as served:
        url = f"https://127.0.0.1:{served.port}/"
        with pytest.raises(TlsFailed, match=r"self[- ]signed"):
            await engine.request("GET", url)
        response = await engine.request("GET", url, verify_tls=False)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    assert response.status_code == 200
    assert response.tls_cert_expires_at == ca_cert.not_valid_after_utc.replace(microsecond=0)
    assert response.tls_issuer is not None
    assert "Phoenix Test CA" in response.tls_issuer


async def test_one_engine_builds_its_ssl_contexts_once(ca: trustme.CA) -> None:
    engine = Engine(guard=loopback_guard(), verify_context=client_context(ca))
    assert engine._verifying is engine._verifying
    contexts = {id(engine._verifying), id(engine._insecure)}
    assert len(contexts) == 2


async def test_a_plain_http_server_on_an_https_url_is_tls_failed() -> None:
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)  # the ClientHello, answered like nginx on a plain port
        writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(TlsFailed):
            await Engine(guard=loopback_guard()).request("GET", f"https://127.0.0.1:{port}/")


async def test_a_server_that_never_finishes_the_handshake_is_cut_by_the_timeout() -> None:
    closed = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers the ClientHello; returns when the client goes
        closed.set()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await Engine(guard=loopback_guard()).request("GET", f"https://127.0.0.1:{port}/")
        await asyncio.wait_for(closed.wait(), 3)
