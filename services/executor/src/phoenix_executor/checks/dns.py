"""The ``dns`` check: does ``hostname`` have records of a type, with expected values?

``dns_resolver`` (``IP``, ``IP:port``, ``[IPv6]:port``) names the server to ask;
empty means the operator's ``PHOENIX_DNS_CHECK_RESOLVER``, or else the executor's
system resolver. A user-chosen resolver passes the
SSRF guard first, before anything is sent: otherwise a monitor could probe DNS
servers on Phoenix's own network. The queried name is not guarded, by choice:
the question goes only to the operator's resolver or a guarded one, nothing
connects to the answers, and they are only reported (docs/architecture.md says
what that shows on a split-horizon network).

Answers and expected values are compared normalised: lower-case, trailing dots
and repeated spaces removed, IP addresses in canonical form, MX as
``"pref host"``, TXT as its strings joined. Every expected value must be among
the answers (extra answers are fine).
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import replace

import dns.asyncresolver
import dns.exception
import dns.rdata
import dns.resolver
from dns.rdtypes.mxbase import MXBase
from dns.rdtypes.txtbase import TXTBase
from phoenix_contracts.checks import Timings
from phoenix_contracts.monitors import MonitorSpec
from phoenix_contracts.urls import parse_resolver
from phoenix_platform.netguard import TargetRefused

from phoenix_executor.checks.base import CheckContext, Outcome


def normalise(text: str) -> str:
    text = " ".join(text.lower().split()).rstrip(".")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def render(rdata: dns.rdata.Rdata) -> str:
    if isinstance(rdata, TXTBase):  # one value split in strings of at most 255 bytes
        return normalise(b"".join(rdata.strings).decode("utf-8", errors="replace"))
    if isinstance(rdata, MXBase):
        return normalise(f"{rdata.preference} {rdata.exchange}")
    return normalise(rdata.to_text())


def _resolver(spec: MonitorSpec, ctx: CheckContext) -> dns.asyncresolver.Resolver:
    """The resolver to ask; raises TargetRefused / ValueError for a bad ``dns_resolver``."""
    if spec.dns_resolver:
        address, port = parse_resolver(spec.dns_resolver)
        ctx.guard.check(address)  # a member's choice: never a server on our network
    elif ctx.dns_resolver:
        address, port = parse_resolver(ctx.dns_resolver)  # the operator's: trusted
    else:
        resolver = dns.asyncresolver.Resolver()
        resolver.lifetime = spec.timeout
        return resolver
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.port = port  # before nameservers: dnspython may bind the port on assignment
    resolver.nameservers = [str(address)]
    resolver.lifetime = spec.timeout
    return resolver


class DnsCheck:
    type = "dns"

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome:
        started = time.perf_counter()
        kind, name = spec.dns_record_type, spec.hostname
        try:
            resolver = _resolver(spec, ctx)
        except TargetRefused as exc:
            return Outcome.down("refused", f"resolver refused: {exc}", started)
        except ValueError:
            return Outcome.down("config", f"bad dns_resolver {spec.dns_resolver!r}", started)
        try:
            answer = await resolver.resolve(name, kind, search=False)
        except dns.resolver.NXDOMAIN:
            return Outcome.down("nxdomain", f"{name} does not exist (NXDOMAIN)", started)
        except dns.resolver.NoAnswer:
            return Outcome.down("no_answer", f"{name} has no {kind} record", started)
        except dns.exception.Timeout:
            return Outcome.down("timeout", f"no DNS answer for {name} {kind}", started)
        except dns.exception.DNSException as exc:
            return Outcome.down("dns", f"{type(exc).__name__}: {exc}", started)
        total = round((time.perf_counter() - started) * 1000, 2)
        found = sorted({render(rdata) for rdata in answer})
        missing = [v for v in spec.expected_values if normalise(v) not in found]
        listed = ", ".join(found)
        timings = Timings(dns_ms=total, total_ms=total)
        if not found:
            return replace(Outcome.down("no_answer", "empty answer", started), timings=timings)
        if missing:
            message = f"{kind} {name}: missing {', '.join(missing)}; found {listed}"
            return replace(Outcome.down("dns_mismatch", message, started), timings=timings)
        return Outcome(outcome="up", message=f"{kind} {name}: {listed}", timings=timings)
