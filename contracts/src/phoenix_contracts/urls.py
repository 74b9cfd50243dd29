"""A URL read once, fully, where it enters: what a check or a channel will need later.

Here, in the contracts, because every writer of a URL (the config role for
monitors and channels, whoever validates a command) must read it the same way.

``urlsplit`` accepts what later code cannot use (``https://h:99999/`` raises only when
its port is read, ``https://[::1/`` raises at once), so a URL that passes here is one
whose scheme, host and port every later reader gets without an error.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from urllib.parse import SplitResult, urlsplit


def url_problem(url: str, schemes: Collection[str] = ("http", "https")) -> str | None:
    """Why ``url`` is not a usable absolute URL with one of ``schemes``, or None."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port out of 0-65535 or not a number
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in schemes:
        return "must be an " + " or ".join(f"{s}://" for s in schemes) + " URL"
    if port == 0:
        return "has an invalid port: use 1 to 65535"
    return _host_problem(parts)


def _host_problem(parts: SplitResult) -> str | None:
    host = parts.hostname
    if not host:
        return "must name a host"
    if "[" in parts.netloc:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return "has an invalid IPv6 address in brackets"
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.rstrip(".").split(".")
        if not all(label and len(label) <= 63 for label in labels) or len(host) > 253:
            return "has an invalid host name"
    return None


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_RESOLVER_FORMS = "must be an IP address, optionally with :port ([IPv6]:port)"


def parse_resolver(text: str) -> tuple[Address, int]:
    """A DNS server as ``IP``, ``IP:port``, ``IPv6``, ``[IPv6]`` or ``[IPv6]:port``
    → (address, port 53 unless given). ValueError, saying why, for anything else,
    such as a port outside 1-65535: read once, where a monitor or a setting names it."""
    text = text.strip()
    host, _, port_text = text.rpartition(":")
    try:
        if text.startswith("[") and text.endswith("]"):
            return ipaddress.IPv6Address(text[1:-1]), 53
        if "]" not in text and text.count(":") != 1:
            return ipaddress.ip_address(text), 53  # IPv4, or IPv6 without a port
        address: Address = (
            ipaddress.IPv6Address(host[1:-1])
            if host.startswith("[") and host.endswith("]")
            else ipaddress.IPv4Address(host)
        )
    except ValueError:
        raise ValueError(_RESOLVER_FORMS) from None
    if not (port_text.isascii() and port_text.isdigit() and 1 <= int(port_text) <= 65535):
        raise ValueError(f"port {port_text[:10]!r} is not a number from 1 to 65535")
    return address, int(port_text)
