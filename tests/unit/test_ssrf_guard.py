"""The SSRF guard (``phoenix_platform.netguard``): internal targets are refused by default."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from typing import Any

import pytest
from phoenix_platform.netguard import NetGuard, TargetRefused, parse_networks

INTERNAL_ADDRESSES = [
    ("this-host-any", "0.0.0.0"),
    ("this-network", "0.1.2.3"),
    ("loopback", "127.0.0.1"),
    ("loopback-other", "127.255.255.254"),
    ("rfc1918-10", "10.0.0.1"),
    ("rfc1918-172-16", "172.16.0.1"),
    ("rfc1918-172-31", "172.31.255.255"),
    ("rfc1918-192-168", "192.168.1.1"),
    ("carrier-grade-nat", "100.64.0.1"),
    ("link-local", "169.254.0.1"),
    ("cloud-metadata", "169.254.169.254"),
    ("ietf-protocol", "192.0.0.170"),
    ("documentation-1", "192.0.2.1"),
    ("documentation-2", "198.51.100.7"),
    ("documentation-3", "203.0.113.9"),
    ("6to4-relay", "192.88.99.1"),
    ("benchmarking", "198.18.0.1"),
    ("multicast", "224.0.0.1"),
    ("reserved", "240.0.0.1"),
    ("broadcast", "255.255.255.255"),
    ("ipv6-unspecified", "::"),
    ("ipv6-loopback", "::1"),
    ("ipv4-mapped-loopback", "::ffff:127.0.0.1"),
    ("ipv4-mapped-metadata", "::ffff:169.254.169.254"),
    ("ipv4-mapped-private", "::ffff:10.0.0.1"),
    ("nat64-loopback", "64:ff9b::7f00:1"),
    ("ipv4-compatible-loopback", "::7f00:1"),
    ("nat64-metadata", "64:ff9b::169.254.169.254"),
    ("nat64-local-use", "64:ff9b:1::1"),
    ("6to4-loopback", "2002:7f00:1::1"),
    ("6to4-private", "2002:c0a8:101::1"),
    ("teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2"),
    ("ipv6-documentation", "2001:db8::1"),
    ("ipv6-discard", "100::1"),
    ("unique-local", "fd00::1"),
    ("unique-local-fc", "fc00::1"),
    ("ipv6-link-local", "fe80::1"),
    ("ipv6-link-local-with-zone", "fe80::1%1"),
    ("site-local", "fec0::1"),
    ("ipv6-multicast", "ff02::1"),
]


@pytest.mark.parametrize(
    "address", [a for _, a in INTERNAL_ADDRESSES], ids=[n for n, _ in INTERNAL_ADDRESSES]
)
def test_an_internal_address_is_refused(address: str) -> None:
    with pytest.raises(TargetRefused, match="not public"):
        NetGuard().check(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", [a for _, a in INTERNAL_ADDRESSES], ids=[n for n, _ in INTERNAL_ADDRESSES]
)
async def test_an_internal_address_literal_is_refused_without_resolving(address: str) -> None:
    with pytest.raises(TargetRefused):
        await NetGuard().resolve(address, 80)


def test_the_matrix_covers_at_least_25_internal_targets() -> None:
    assert len(INTERNAL_ADDRESSES) >= 25


PUBLIC_ADDRESSES = [
    ("google-dns", "8.8.8.8"),
    ("cloudflare-dns", "1.1.1.1"),
    ("just-outside-172-16-12", "172.32.0.1"),
    ("just-outside-cgnat", "100.128.0.1"),
    ("cloudflare-ipv6", "2606:4700:4700::1111"),
    ("ipv4-mapped-public", "::ffff:8.8.8.8"),
    ("6to4-public", "2002:808:808::1"),
    ("nat64-public", "64:ff9b::8.8.8.8"),
]


@pytest.mark.parametrize(
    "address", [a for _, a in PUBLIC_ADDRESSES], ids=[n for n, _ in PUBLIC_ADDRESSES]
)
def test_a_public_address_is_allowed(address: str) -> None:
    NetGuard().check(ipaddress.ip_address(address))  # does not raise


@pytest.mark.parametrize(
    ("host", "expected"),
    [("8.8.8.8", "8.8.8.8"), ("2606:4700:4700::1111", "2606:4700:4700::1111")],
    ids=["ipv4", "ipv6"],
)
async def test_a_public_literal_resolves_to_itself(host: str, expected: str) -> None:
    assert await NetGuard().resolve(host, 443) == ipaddress.ip_address(expected)


HOSTNAMES = [
    ("localhost", "localhost"),
    ("bracketed-ipv6-loopback", "[::1]"),
    ("bracketed-mapped-loopback", "[::ffff:127.0.0.1]"),
    ("decimal-loopback", "2130706433"),
    ("octal-loopback", "0177.0.0.1"),
    ("hex-loopback", "0x7f.0.0.1"),
    ("hex-integer-loopback", "0x7f000001"),
    ("short-form-loopback", "127.1"),
    ("zero", "0"),
    ("decimal-metadata", "2852039166"),
]


@pytest.mark.parametrize("host", [h for _, h in HOSTNAMES], ids=[n for n, _ in HOSTNAMES])
async def test_a_name_or_odd_numeric_form_of_an_internal_address_is_refused(host: str) -> None:
    # Python's ipaddress rejects the odd numeric forms, getaddrinfo (inet_aton) accepts
    # them: either way the address they reach must be refused.
    with pytest.raises(TargetRefused):
        await NetGuard().resolve(host, 80)


@pytest.mark.parametrize(
    ("host", "reached"),
    [("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("2852039166", "169.254.169.254")],
    ids=["decimal", "octal", "decimal-metadata"],
)
async def test_numeric_forms_are_resolved_to_the_address_they_really_reach(
    host: str, reached: str
) -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        ipaddress.ip_address(host)
    with pytest.raises(TargetRefused, match=re.escape(f"address {reached} is not public")):
        await NetGuard().resolve(host, 80)


# --- resolution with a fake resolver -----------------------------------------------------


def fake_resolver(
    monkeypatch: pytest.MonkeyPatch, answer: list[str] | Exception
) -> list[tuple[str, int]]:
    calls: list[tuple[str, int]] = []

    async def getaddrinfo(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        calls.append((host, port))
        if isinstance(answer, Exception):
            raise answer
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer
        ]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    return calls


async def test_a_name_resolves_to_its_first_checked_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = fake_resolver(monkeypatch, ["93.184.216.34", "2606:2800:220:1::1"])
    assert await NetGuard().resolve("example.com", 443) == ipaddress.ip_address("93.184.216.34")
    assert calls == [("example.com", 443)]


async def test_one_internal_answer_refuses_the_whole_name(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, ["93.184.216.34", "10.0.0.5"])
    with pytest.raises(TargetRefused, match=r"10\.0\.0\.5"):
        await NetGuard().resolve("rebind.example", 80)


async def test_a_name_without_addresses_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, [])
    with pytest.raises(TargetRefused, match="no address"):
        await NetGuard().resolve("empty.example", 80)


async def test_an_unresolvable_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    with pytest.raises(TargetRefused, match=r"cannot resolve nowhere\.example"):
        await NetGuard().resolve("nowhere.example", 80)


# --- allow-list -----------------------------------------------------------------------


def test_an_allow_list_lets_its_networks_through_and_nothing_else() -> None:
    guard = NetGuard(parse_networks("127.0.0.0/8"))
    guard.check(ipaddress.ip_address("127.0.0.1"))
    guard.check(ipaddress.ip_address("::ffff:127.0.0.1"))
    for refused in ("10.0.0.1", "169.254.169.254", "::1", "192.168.1.1"):
        with pytest.raises(TargetRefused):
            guard.check(ipaddress.ip_address(refused))


async def test_an_allow_listed_name_resolves() -> None:
    assert await NetGuard(parse_networks("127.0.0.0/8")).resolve(
        "localhost", 8080
    ) == ipaddress.ip_address("127.0.0.1")


def test_an_ipv6_allow_list_does_not_open_ipv4() -> None:
    guard = NetGuard(parse_networks("fd00::/8"))
    guard.check(ipaddress.ip_address("fd00::1"))
    for refused in ("fe80::1", "10.0.0.1", "::1"):
        with pytest.raises(TargetRefused):
            guard.check(ipaddress.ip_address(refused))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.0/8", ["127.0.0.0/8"]),
        ("127.0.0.0/8, 10.1.0.0/16", ["127.0.0.0/8", "10.1.0.0/16"]),
        (" 10.0.0.1/8 ,", ["10.0.0.0/8"]),
        ("192.168.1.5", ["192.168.1.5/32"]),
        ("fd00::/8", ["fd00::/8"]),
        ("", []),
        (" , ", []),
    ],
    ids=["one", "two", "host-bits-and-spaces", "single-address", "ipv6", "empty", "blank-items"],
)
def test_parse_networks_reads_a_comma_separated_list(value: str, expected: list[str]) -> None:
    assert [str(net) for net in parse_networks(value)] == expected


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        ("nonsense", "nonsense"),
        ("10.0.0.0/8, bogus", "bogus"),
        ("10.0.0.0/33", "10.0.0.0/33"),
        ("300.1.1.1", "300.1.1.1"),
        ("localhost", "localhost"),
    ],
    ids=["word", "second-entry", "prefix-too-long", "octet-too-big", "hostname"],
)
def test_parse_networks_rejects_garbage_naming_the_entry(value: str, bad: str) -> None:
    with pytest.raises(ValueError, match="is not a CIDR network") as error:
        parse_networks(value)
    assert repr(bad) in str(error.value)
