"""Incident family: what went wrong, when, and when it ended (owned by the evaluator)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from phoenix_contracts.base import Event

INCIDENT = "incident"


class IncidentOpened(Event, frozen=True, kw_only=True, tag="incident.opened"):
    aggregate: ClassVar[str] = INCIDENT
    monitor_id: str
    title: str
    cause: str
    started_at: datetime


class IncidentResolved(Event, frozen=True, kw_only=True, tag="incident.resolved"):
    aggregate: ClassVar[str] = INCIDENT
    monitor_id: str
    resolved_at: datetime
    duration_seconds: float
    note: str = ""


IncidentEvent = IncidentOpened | IncidentResolved
