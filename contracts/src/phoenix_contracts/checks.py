"""Check family: due checks (jobs) and their results. Neither is an aggregate event.

Jobs travel on the CHECKS work queue (``phx.job.check.<region>``), results on
the RESULTS stream (``phx.res.<partition>.<monitor_id>``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from phoenix_contracts.base import Message
from phoenix_contracts.monitors import MonitorSpec

CheckOutcome = Literal["up", "down", "skipped"]


class CheckJob(Message, frozen=True, kw_only=True, tag="check_job"):
    """One due check. ``job_id`` is deterministic (monitor + due time) so a job
    published twice is dropped by the server's duplicate window."""

    job_id: str
    monitor_id: str
    organization_id: str
    region: str
    due_at: datetime
    deadline: datetime
    spec: MonitorSpec
    last_beat_at: datetime | None = None  # push monitors: the newest heartbeat known


class Timings(msgspec.Struct, frozen=True, kw_only=True):
    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    first_byte_ms: float | None = None
    total_ms: float = 0.0


class CheckCompleted(Message, frozen=True, kw_only=True, tag="check_completed"):
    result_id: str
    job_id: str
    monitor_id: str
    organization_id: str
    region: str
    due_at: datetime
    started_at: datetime
    finished_at: datetime
    outcome: CheckOutcome
    timings: Timings = msgspec.field(default_factory=Timings)
    status_code: int | None = None
    error_class: str | None = None
    message: str = ""
    body_excerpt: str = ""  # at most 1 KiB, for the user to see what the target said
    cert_expires_at: datetime | None = None  # every TLS check reports it
    cert_issuer: str | None = None
