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


HealthEvent = MonitorStatusChanged
