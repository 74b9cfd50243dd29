"""The tcp check against a real local listener and a closed port."""

from __future__ import annotations

from phoenix_executor.checks.base import CheckContext
from phoenix_executor.checks.tcp import TcpCheck

from tests.checks.peers import Peer, closed_port, make_spec

CHECK = TcpCheck()


async def test_an_open_port_is_up_with_dns_and_connect_timings(
    ctx: CheckContext, tcp_peer: Peer
) -> None:
    outcome = await CHECK.run(make_spec("tcp", hostname="localhost", port=tcp_peer.port), ctx)
    assert outcome.outcome == "up", outcome.message
    assert outcome.timings.dns_ms is not None
    assert outcome.timings.connect_ms is not None
    assert outcome.timings.total_ms >= outcome.timings.connect_ms


async def test_a_closed_port_is_down_with_connect(ctx: CheckContext) -> None:
    port = closed_port()
    outcome = await CHECK.run(make_spec("tcp", hostname="127.0.0.1", port=port), ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "connect")
    assert f"127.0.0.1:{port}" in outcome.message


async def test_a_spec_without_a_port_is_down_with_config(ctx: CheckContext) -> None:
    outcome = await CHECK.run(make_spec("tcp", hostname="127.0.0.1"), ctx)
    assert outcome.error_class == "config"


async def test_a_loopback_target_is_refused_by_the_default_guard(
    guarded_ctx: CheckContext, tcp_peer: Peer
) -> None:
    spec = make_spec("tcp", hostname="localhost", port=tcp_peer.port)
    outcome = await CHECK.run(spec, guarded_ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "refused")
