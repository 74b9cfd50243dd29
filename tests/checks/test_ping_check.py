"""The ping check, which depends on the host allowing unprivileged ICMP."""

from __future__ import annotations

import os
from pathlib import Path

from phoenix_executor.checks.base import CheckContext
from phoenix_executor.checks.ping import PingCheck

from tests.checks.peers import make_spec

CHECK = PingCheck()


def unprivileged_icmp_allowed() -> bool:
    """Whether one of our groups is in ``net.ipv4.ping_group_range``."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    except (OSError, ValueError):
        return False
    return any(low <= group <= high for group in {os.getgid(), *os.getgroups()})


async def test_pinging_loopback_answers_or_names_the_sysctl_to_change(ctx: CheckContext) -> None:
    outcome = await CHECK.run(make_spec("ping", hostname="127.0.0.1", timeout=2.0), ctx)
    if unprivileged_icmp_allowed():
        assert outcome.outcome == "up", outcome.message
        assert outcome.timings.connect_ms is not None
        assert outcome.message.startswith("reply from 127.0.0.1 in ")
    else:
        assert (outcome.outcome, outcome.error_class) == ("down", "ping_unavailable")
        assert "net.ipv4.ping_group_range" in outcome.message


async def test_a_loopback_target_is_refused_by_the_default_guard(
    guarded_ctx: CheckContext,
) -> None:
    outcome = await CHECK.run(make_spec("ping", hostname="localhost"), guarded_ctx)
    assert (outcome.outcome, outcome.error_class) == ("down", "refused")


async def test_a_spec_without_a_hostname_is_down_with_config(ctx: CheckContext) -> None:
    outcome = await CHECK.run(make_spec("ping"), ctx)
    assert outcome.error_class == "config"
