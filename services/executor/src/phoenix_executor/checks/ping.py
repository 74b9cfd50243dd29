"""The ``ping`` check: does the host answer one ICMP echo request?

The host is resolved by the SSRF guard and the approved address is pinged.
ICMP is sent from an unprivileged datagram socket so the executor needs no
root or CAP_NET_RAW; Linux only allows that to groups listed in the sysctl
``net.ipv4.ping_group_range``, so where it is not set the check is down with
``ping_unavailable`` and says which setting to change, instead of crashing.
"""

from __future__ import annotations

import time

from icmplib import ICMPLibError, SocketPermissionError, async_ping
from phoenix_contracts.checks import Timings
from phoenix_contracts.monitors import MonitorSpec
from phoenix_platform.netguard import TargetRefused

from phoenix_executor.checks.base import CheckContext, Outcome

UNAVAILABLE = (
    "unprivileged ICMP is not allowed on this executor host: add the executor's group "
    "to the sysctl net.ipv4.ping_group_range (e.g. net.ipv4.ping_group_range=0 2147483647)"
)


class PingCheck:
    type = "ping"

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        started = time.perf_counter()
        if not spec.hostname:
            return Outcome.down("config", "a ping check needs a hostname", started)
        try:
            address = await ctx.guard.resolve(spec.hostname, 0)
        except TargetRefused as exc:
            return Outcome.down("refused", str(exc), started)
        resolved = time.perf_counter()
        wait = spec.timeout * 0.9  # under the caller's bound: a silent host reads "unreachable"
        try:
            host = await async_ping(str(address), count=1, timeout=wait, privileged=False)
        except SocketPermissionError:
            return Outcome.down("ping_unavailable", UNAVAILABLE, started)
        except (ICMPLibError, OSError) as exc:
            return Outcome.down("ping", f"{type(exc).__name__}: {exc}", started)
        if not host.is_alive:
            return Outcome.down("unreachable", f"no echo reply from {address}", started)
        end = time.perf_counter()
        return Outcome(
            outcome="up",
            message=f"reply from {address} in {host.avg_rtt:.2f} ms",
            timings=Timings(
                dns_ms=round((resolved - started) * 1000, 2),
                connect_ms=round(host.avg_rtt, 2),  # the round trip, ICMP's "connect"
                total_ms=round((end - started) * 1000, 2),
            ),
        )
