"""What every check plug-in is, and what it returns.

A plug-in is one module exposing an object with a ``type`` and an async
``run(spec, ctx) -> Outcome``. It never raises for a failing target: a target
that is down is an ``Outcome`` with ``outcome="down"``, an ``error_class`` and
a message a person can act on. The caller bounds the whole run with the
monitor's timeout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from phoenix_contracts.checks import CheckOutcome, Timings
from phoenix_contracts.monitors import MonitorSpec
from phoenix_platform.netguard import NetGuard

from phoenix_executor.engine import Engine


@dataclass(frozen=True)
class Outcome:
    outcome: CheckOutcome
    message: str
    status_code: int | None = None
    error_class: str | None = None
    timings: Timings = field(default_factory=Timings)
    body_excerpt: str = ""
    cert_expires_at: datetime | None = None
    cert_issuer: str | None = None

    @classmethod
    def down(cls, error_class: str, message: str, started: float) -> Outcome:
        total = (time.perf_counter() - started) * 1000
        return cls(
            outcome="down",
            error_class=error_class,
            message=message[:500],
            timings=Timings(total_ms=round(total, 2)),
        )


@dataclass(frozen=True)
class CheckContext:
    """Shared, long-lived resources a check may use (built once per executor)."""

    guard: NetGuard
    engine: Engine  # the HTTP engine of the http, keyword and json checks
    # PHOENIX_DNS_CHECK_RESOLVER: where dns checks naming no resolver ask ("": the system's)
    dns_resolver: str = ""


class Check(Protocol):
    type: str

    async def run(self, spec: MonitorSpec, ctx: CheckContext) -> Outcome: ...
