"""SSRF guard for requests to user-supplied addresses.

Monitors and webhooks name hosts chosen by users; without a guard they can
make Phoenix probe its own network (databases, cloud metadata). Every address
a host resolves to is checked against explicit lists of non-public networks
(``ipaddress.is_private`` is incomplete on Python 3.11, CVE-2024-4032), and
the caller connects to the address that was checked, so a second DNS answer
cannot swap in an internal one (DNS rebinding).

``PHOENIX_ALLOW_PRIVATE_TARGETS`` lists CIDRs that self-hosters may reach.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BLOCKED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",  # "this" network, incl. 0.0.0.0
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, incl. broadcast
        "::/96",  # unspecified, loopback and IPv4-compatible (deprecated) ::a.b.c.d
        "::ffff:0:0/96",  # IPv4-mapped: checked again as IPv4 below
        "64:ff9b::/96",  # NAT64: embeds IPv4
        "64:ff9b:1::/48",
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4: embeds IPv4
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)


class TargetRefused(Exception):
    """The target is not allowed (non-public address, bad scheme, unresolvable)."""


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """``"127.0.0.0/8, 10.1.0.0/16"`` → networks; raises ValueError naming the bad entry."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not a CIDR network") from None
    return tuple(networks)


class NetGuard:
    def __init__(self, allowed: Iterable[IPNetwork] = ()) -> None:
        self._allowed = tuple(allowed)

    def check(self, address: IPAddress) -> None:
        """Raise :class:`TargetRefused` unless ``address`` is public or allowed."""
        if any(address in net for net in self._allowed if net.version == address.version):
            return
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            # IPv4-mapped, 6to4 and NAT64 addresses reach the IPv4 address inside.
            self.check(embedded)
            return
        for net in BLOCKED:
            if net.version == address.version and address in net:
                raise TargetRefused(f"address {address} is not public ({net})")

    async def resolve(self, host: str, port: int) -> IPAddress:
        """The first address of ``host``, after checking every address it resolves to."""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            self.check(literal)
            return literal
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise TargetRefused(f"cannot resolve {host}: {exc.strerror}") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise TargetRefused(f"{host} has no address")
        for address in addresses:  # one bad answer refuses all: no picking the good one
            self.check(address)
        return addresses[0]


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in ipaddress.ip_network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
