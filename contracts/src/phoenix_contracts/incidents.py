"""Incident family: what went wrong, when, and when it ended (owned by the evaluator).

The evaluator opens an incident when a monitor goes down and resolves it on
recovery; people acknowledge it, add timeline updates and may resolve it by
hand through the ``<ns>.cmd.incident.<verb>`` commands, also answered by the
evaluator (one writer per aggregate).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from phoenix_contracts.base import Event, Message

INCIDENT = "incident"


class IncidentOpened(Event, frozen=True, kw_only=True, tag="incident.opened"):
    aggregate: ClassVar[str] = INCIDENT
    monitor_id: str
    title: str
    cause: str
    started_at: datetime


class IncidentAcknowledged(Event, frozen=True, kw_only=True, tag="incident.acknowledged"):
    """Someone is on it."""

    aggregate: ClassVar[str] = INCIDENT
    monitor_id: str
    by_user_id: str
    note: str = ""


class IncidentUpdateAdded(Event, frozen=True, kw_only=True, tag="incident.update_added"):
    """A timeline entry written by a person."""

    aggregate: ClassVar[str] = INCIDENT
    monitor_id: str
    by_user_id: str
    message: str


class IncidentResolved(Event, frozen=True, kw_only=True, tag="incident.resolved"):
    """By the recovery (``by_user_id`` empty) or by hand (``by_user_id``, ``note``)."""

    aggregate: ClassVar[str] = INCIDENT
    monitor_id: str
    resolved_at: datetime
    duration_seconds: float
    note: str = ""
    by_user_id: str = ""


IncidentEvent = IncidentOpened | IncidentAcknowledged | IncidentUpdateAdded | IncidentResolved


# --- commands (phx.cmd.incident.<verb>, answered by the evaluator) ----------


class AcknowledgeIncident(Message, frozen=True, kw_only=True, tag="acknowledge_incident"):
    verb: ClassVar[str] = "acknowledge"
    organization_id: str
    incident_id: str
    user_id: str
    note: str = ""
    correlation_id: str = ""


class ResolveIncident(Message, frozen=True, kw_only=True, tag="resolve_incident"):
    verb: ClassVar[str] = "resolve"
    organization_id: str
    incident_id: str
    user_id: str
    note: str = ""
    correlation_id: str = ""


class AddIncidentUpdate(Message, frozen=True, kw_only=True, tag="add_incident_update"):
    verb: ClassVar[str] = "update"
    organization_id: str
    incident_id: str
    user_id: str
    message: str
    correlation_id: str = ""


IncidentCommand = AcknowledgeIncident | ResolveIncident | AddIncidentUpdate
INCIDENT_VERBS = ("acknowledge", "resolve", "update")
