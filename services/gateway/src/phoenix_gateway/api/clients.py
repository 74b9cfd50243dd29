"""The address a request comes from, for throttling and the session list.

``X-Forwarded-For`` is believed only from a configured trusted proxy
(``PHOENIX_TRUSTED_PROXIES``); otherwise anyone could reset their login
throttle by inventing a new address on every try.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar import Request
from phoenix_platform.netguard import IPNetwork


class TrustedProxies:
    """Not a dataclass on purpose: Litestar would try to model its fields as a schema."""

    __slots__ = ("networks",)

    def __init__(self, networks: tuple[IPNetwork, ...] = ()) -> None:
        self.networks = networks


def client_address(request: Request[Any, Any, Any], trusted: TrustedProxies) -> str:
    peer = request.client.host if request.client else ""
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    address = peer
    # Walk from the nearest hop outwards while the hop we believe is a trusted proxy.
    while hops and _is_trusted(address, trusted.networks):
        address = hops.pop()
    return address


def _is_trusted(address: str, trusted: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted if network.version == ip.version)
