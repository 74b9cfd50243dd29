"""Health family: a monitor's judged status (owned by the evaluator).

The aggregate id is the monitor id, but it is a separate aggregate from the
monitor's configuration so each has exactly one writer.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from phoenix_contracts.base import Event
from phoenix_contracts.monitors import MonitorStatus

HEALTH = "health"


class MonitorStatusChanged(Event, frozen=True, kw_only=True, tag="health.status_changed"):
    """``previous`` → ``status``, caused by the result ``result_id`` checked at ``checked_at``."""

    aggregate: ClassVar[str] = HEALTH
    monitor_id: str
    status: MonitorStatus
    previous: MonitorStatus
    reason: str
    result_id: str
    checked_at: datetime
    region: str = ""
    flapping: bool = False  # changes while flapping are recorded, not alerted one by one
    incident_id: str | None = None  # opened by a down, resolved by the recovery


class MonitorFlappingChanged(Event, frozen=True, kw_only=True, tag="health.flapping_changed"):
    """The monitor started (``flapping``) or stopped flapping: one notice instead of a storm."""

    aggregate: ClassVar[str] = HEALTH
    monitor_id: str
    flapping: bool
    changes_in_window: int
    window_seconds: int


class CertificateExpiring(Event, frozen=True, kw_only=True, tag="health.certificate_expiring"):
    """The certificate crossed a warning threshold; once per threshold per certificate."""

    aggregate: ClassVar[str] = HEALTH
    monitor_id: str
    expires_at: datetime
    days_left: int
    threshold_days: int
    issuer: str | None = None


HealthEvent = MonitorStatusChanged | MonitorFlappingChanged | CertificateExpiring
