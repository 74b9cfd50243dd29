"""Envelope and base classes shared by every event family."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, TypedDict

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """A fact appended to the event log.

    The tag (``type``) is an explicit stable string rather than the class name,
    so renaming a class never orphans events already written.
    """

    event_id: str
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime
    organization_id: str
    correlation_id: str = ""
    causation_id: str = ""
    schema_version: int = 1

    aggregate: ClassVar[str] = ""


class Envelope(TypedDict):
    """The envelope fields, as keyword arguments for building an event."""

    event_id: str
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime
    organization_id: str
    correlation_id: str


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """A command, request, reply or job: anything that is not a stored fact."""


class Rejected(Message, frozen=True, kw_only=True, tag="rejected"):
    """Reply to a command or request that was refused.

    ``code`` is one of: ``invalid`` (bad input; ``field`` names it),
    ``conflict``, ``not_found``, ``unauthorized``, ``forbidden``, ``throttled``
    (``retry_after`` seconds), ``unavailable``.
    """

    code: str
    message: str
    field: str | None = None
    retry_after: int | None = None


class Accepted(Message, frozen=True, kw_only=True, tag="accepted"):
    """Reply to a command: the events it appended and where they landed.

    ``sequence`` is the event-log stream sequence of the last appended event;
    readers use it to wait until their projection has caught up (read your writes).
    """

    aggregate_id: str
    sequence: int
    events: list[str] = msgspec.field(default_factory=list)
