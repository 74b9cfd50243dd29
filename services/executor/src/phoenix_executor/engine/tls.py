"""The engine's TLS contexts and what it reads from a peer certificate.

Building an ``SSLContext`` loads the CA bundle (~28 ms); one per check caps a
core at a few dozen checks/s, so the engine builds two, once, and shares them.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from typing import cast

try:  # only needed to read certificates that were not verified
    from cryptography import x509
except ImportError:  # pragma: no cover - cryptography is a dependency of the executor
    x509 = None  # type: ignore[assignment]

# getpeercert() long names → the short RFC 4514 names people know.
_SHORT = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
}


def verifying_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])  # the engine speaks HTTP/1.1 only
    return context


def insecure_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


Facts = tuple[datetime | None, str | None]
# Parsing a certificate costs ~65 us (strptime, ASN.1), ~7% of an HTTPS check; monitors hit
# the same few certificates again and again, so facts are kept per DER certificate.
_FACTS: dict[bytes, Facts] = {}
_MAX_FACTS = 4096


def certificate_facts(sslobj: ssl.SSLObject | None) -> Facts:
    """``(notAfter, issuer)`` of the peer certificate, or ``(None, None)``."""
    if sslobj is None:
        return None, None
    der = sslobj.getpeercert(binary_form=True)  # also set when not verified
    if not der:
        return None, None
    facts = _FACTS.get(der)
    if facts is None:
        facts = _from_der(der) if x509 is not None else _from_dict(sslobj.getpeercert())
        if len(_FACTS) >= _MAX_FACTS:
            _FACTS.clear()
        _FACTS[der] = facts
    return facts


def _from_der(der: bytes) -> Facts:
    try:
        parsed = x509.load_der_x509_certificate(der)
    except ValueError:
        return None, None
    issuer = ", ".join(attribute.rfc4514_string() for attribute in parsed.issuer)
    return parsed.not_valid_after_utc, issuer or None


def _from_dict(cert: dict[str, object] | None) -> Facts:
    """Without cryptography: only verified certificates are parsed by the ssl module."""
    if not cert or "notAfter" not in cert:
        return None, None
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), UTC)
    issuer_rdns = cast("tuple[tuple[tuple[str, str], ...], ...]", cert.get("issuer", ()))
    parts = [f"{_SHORT.get(name, name)}={value}" for rdn in issuer_rdns for name, value in rdn]
    return expires, ", ".join(parts) or None
