"""The ``tls`` check: a TLS handshake with ``hostname``, judged by its certificate.

It reports when the certificate expires and who issued it, so expiry can be
alerted on before it happens. Choices worth knowing:

- One module-level ``SSLContext`` per mode is shared by every check: building
  one (loading the system CA bundle) costs ~28 ms. Tests pass their own,
  trusting a test CA, through ``make_context(cafile)`` and the constructor.
- The TCP connection goes to the address the SSRF guard approved; SNI and
  hostname verification use the name, so the certificate is checked against it.
- With ``ignore_tls_errors`` the handshake is unverified (CERT_NONE) but the
  certificate is still read, from its DER bytes with ``cryptography``, because
  ``getpeercert()`` returns an empty dict for unverified peers.
- An expired certificate is down with ``expired`` in both modes, other
  verification failures with ``tls_verify`` (the SSL library's own words).
"""

from __future__ import annotations

import ssl
import time
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import NameOID
from phoenix_contracts.checks import Timings
from phoenix_contracts.monitors import MonitorSpec

from phoenix_executor.checks.base import CheckContext, Outcome
from phoenix_executor.checks.tcp import Connection, connect_guarded, ms

X509_V_ERR_CERT_HAS_EXPIRED = 10


def make_context(cafile: str | None = None) -> ssl.SSLContext:
    """A verifying client context; trusting only ``cafile`` when given."""
    return ssl.create_default_context(cafile=cafile)


def make_insecure_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


VERIFYING = make_context()
INSECURE = make_insecure_context()


def target(spec: MonitorSpec) -> tuple[str, int]:
    """Host and port to connect to; raises ValueError for a URL it cannot read."""
    if not spec.hostname and spec.url.startswith("https://"):
        parts = urlsplit(spec.url)
        return parts.hostname or "", parts.port or 443
    return spec.hostname, spec.port or 443


def read_certificate(der: bytes) -> tuple[datetime, str]:
    """The certificate's expiry (UTC) and its issuer's CN, else O, else full name."""
    cert = x509.load_der_x509_certificate(der)
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        attributes = cert.issuer.get_attributes_for_oid(oid)
        if attributes:
            return cert.not_valid_after_utc, str(attributes[0].value)
    return cert.not_valid_after_utc, cert.issuer.rfc4514_string()


class TlsCheck:
    type = "tls"

    def __init__(
        self, context: ssl.SSLContext | None = None, insecure: ssl.SSLContext | None = None
    ) -> None:
        self._context = context or VERIFYING
        self._insecure = insecure or INSECURE

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        try:
            host, port = target(spec)
        except ValueError as exc:  # stored before the URL was checked when it was saved
            return Outcome.down("config", f"the URL cannot be read: {exc}", time.perf_counter())
        if not host:
            return Outcome.down("config", "a tls check needs a hostname", time.perf_counter())
        conn = await connect_guarded(ctx.guard, host, port)
        if isinstance(conn, Outcome):
            return conn
        try:
            return await self._handshake(conn, host, spec.ignore_tls_errors)
        finally:
            await conn.close()

    async def _handshake(self, conn: Connection, host: str, insecure: bool) -> Outcome:
        context = self._insecure if insecure else self._context
        try:
            await conn.writer.start_tls(context, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            expired = exc.verify_code == X509_V_ERR_CERT_HAS_EXPIRED
            message = exc.verify_message or str(exc)
            return Outcome.down("expired" if expired else "tls_verify", message, conn.started)
        except (ssl.SSLError, OSError) as exc:
            return Outcome.down("tls", f"TLS handshake failed: {exc}", conn.started)
        shaken = time.perf_counter()
        ssl_object = conn.writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        if not der:
            return Outcome.down("tls", "the server sent no certificate", conn.started)
        expires, issuer = read_certificate(der)
        return self._judge(conn, shaken, host, expires, issuer, insecure)

    def _judge(
        self,
        conn: Connection,
        shaken: float,
        host: str,
        expires: datetime,
        issuer: str,
        insecure: bool,
    ) -> Outcome:
        timings = Timings(
            dns_ms=ms(conn.started, conn.resolved),
            connect_ms=ms(conn.resolved, conn.connected),
            tls_ms=ms(conn.connected, shaken),
            total_ms=ms(conn.started, time.perf_counter()),
        )
        left = expires - datetime.now(UTC)
        until = f"{expires:%Y-%m-%d %H:%M} UTC"
        if left.total_seconds() <= 0:
            down = Outcome.down("expired", f"certificate expired on {until}", conn.started)
            return replace(down, timings=timings, cert_expires_at=expires, cert_issuer=issuer)
        unverified = " (not verified: ignore_tls_errors)" if insecure else ""
        return Outcome(
            outcome="up",
            message=f"certificate for {host} valid until {until}, {left.days} days left, "
            f"issued by {issuer}{unverified}",
            timings=timings,
            cert_expires_at=expires,
            cert_issuer=issuer,
        )
