"""The dns check against a real local DNS server answering from a fixed zone."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
from phoenix_contracts.urls import parse_resolver
from phoenix_executor.checks.base import CheckContext
from phoenix_executor.checks.dns import DnsCheck

from tests.checks.peers import DnsPeer, make_spec

CHECK = DnsCheck()


def dns_spec(peer: DnsPeer, name: str, kind: str, *expected: str, **options: Any) -> Any:
    return make_spec(
        "dns",
        hostname=name,
        dns_record_type=kind,
        dns_resolver=f"127.0.0.1:{peer.port}",
        expected_values=list(expected),
        **options,
    )


@pytest.mark.parametrize(
    ("name", "kind", "found"),
    [
        ("example.test", "A", "192.0.2.10, 192.0.2.11"),
        ("example.test", "AAAA", "2001:db8::10"),
        ("www.example.test", "CNAME", "example.test"),
        ("example.test", "MX", "10 mail.example.test, 20 backup.example.test"),
        ("example.test", "TXT", "hello world, v=spf1 -all"),
        ("example.test", "NS", "ns1.example.test, ns2.example.test"),
    ],
)
async def test_each_record_type_is_up_and_listed_normalised(
    ctx: CheckContext, dns_peer: DnsPeer, name: str, kind: str, found: str
) -> None:
    outcome = await CHECK.run(dns_spec(dns_peer, name, kind), ctx)
    assert outcome.outcome == "up", outcome.message
    assert outcome.message == f"{kind} {name}: {found}"
    assert outcome.timings.dns_ms is not None


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("A", ["192.0.2.11"]),
        ("AAAA", ["2001:DB8:0::10"]),
        ("MX", ["20 backup.example.test.", "10  MAIL.example.test"]),
        ("TXT", ["V=SPF1 -all"]),
        ("NS", ["ns2.example.test."]),
    ],
)
async def test_expected_values_match_after_normalising(
    ctx: CheckContext, dns_peer: DnsPeer, kind: str, expected: list[str]
) -> None:
    outcome = await CHECK.run(dns_spec(dns_peer, "example.test", kind, *expected), ctx)
    assert outcome.outcome == "up", outcome.message


async def test_a_missing_expected_value_is_down_and_lists_what_was_found(
    ctx: CheckContext, dns_peer: DnsPeer
) -> None:
    spec = dns_spec(dns_peer, "example.test", "A", "192.0.2.10", "203.0.113.9")
    outcome = await CHECK.run(spec, ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "dns_mismatch")
    assert outcome.message == "A example.test: missing 203.0.113.9; found 192.0.2.10, 192.0.2.11"


async def test_a_name_that_does_not_exist_is_down_with_nxdomain(
    ctx: CheckContext, dns_peer: DnsPeer
) -> None:
    outcome = await CHECK.run(dns_spec(dns_peer, "nope.example.test", "A"), ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "nxdomain")


async def test_a_name_without_records_of_the_type_is_down_with_no_answer(
    ctx: CheckContext, dns_peer: DnsPeer
) -> None:
    outcome = await CHECK.run(dns_spec(dns_peer, "mail.example.test", "TXT"), ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "no_answer")


async def test_a_resolver_that_never_answers_is_down_with_timeout(
    ctx: CheckContext, silent_udp_port: int
) -> None:
    spec = make_spec(
        "dns", hostname="example.test", dns_resolver=f"127.0.0.1:{silent_udp_port}", timeout=0.3
    )
    outcome = await CHECK.run(spec, ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "timeout")


async def test_a_private_resolver_is_refused_at_once_by_the_default_guard(
    guarded_ctx: CheckContext,
) -> None:
    spec = make_spec("dns", hostname="example.test", dns_resolver="10.0.0.1")
    started = time.perf_counter()
    outcome = await CHECK.run(spec, guarded_ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "refused")
    assert time.perf_counter() - started < 0.5  # nothing waited on 10.0.0.1


async def test_a_refused_resolver_is_never_sent_a_query(
    guarded_ctx: CheckContext, dns_peer: DnsPeer
) -> None:
    before = len(dns_peer.queries)
    outcome = await CHECK.run(dns_spec(dns_peer, "example.test", "A"), guarded_ctx)
    assert outcome.error_class == "refused"
    assert len(dns_peer.queries) == before


@pytest.mark.parametrize(
    ("text", "port"),
    [("9.9.9.9", 53), ("9.9.9.9:5353", 5353), ("2620:fe::fe", 53), ("[2620:fe::fe]:853", 853)],
)
def test_resolver_addresses_parse_with_an_optional_port(text: str, port: int) -> None:
    assert parse_resolver(text)[1] == port


async def test_a_malformed_resolver_is_down_with_config(ctx: CheckContext) -> None:
    outcome = await CHECK.run(make_spec("dns", hostname="x.test", dns_resolver="dns.google"), ctx)
    assert outcome.error_class == "config"


@pytest.mark.parametrize("resolver", ["9.9.9.9:99999", "9.9.9.9:0", "[2620:fe::fe]:65536"])
async def test_a_resolver_port_out_of_range_is_down_with_config_not_a_crash(
    ctx: CheckContext, resolver: str
) -> None:
    outcome = await CHECK.run(make_spec("dns", hostname="x.test", dns_resolver=resolver), ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "config")


async def test_the_operators_resolver_answers_monitors_that_name_none(
    guarded_ctx: CheckContext, dns_peer: DnsPeer
) -> None:
    # The operator's choice (PHOENIX_DNS_CHECK_RESOLVER) is trusted, even on loopback;
    # a member's dns_resolver still passes the guard.
    operators = replace(guarded_ctx, dns_resolver=f"127.0.0.1:{dns_peer.port}")
    spec = make_spec("dns", hostname="example.test", dns_record_type="A")
    outcome = await CHECK.run(spec, operators)
    assert (outcome.outcome, outcome.message) == ("up", "A example.test: 192.0.2.10, 192.0.2.11")
    members = await CHECK.run(dns_spec(dns_peer, "example.test", "A"), operators)
    assert members.error_class == "refused"
