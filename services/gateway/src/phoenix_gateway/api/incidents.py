"""Incidents: list, read with the timeline, acknowledge, add an update, resolve.

Incidents belong to the evaluator; the commands go to it over NATS
(``<ns>.cmd.incident.<verb>``) and we answer once our read model shows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from phoenix_contracts.identity import Principal
from phoenix_contracts.incidents import (
    INCIDENT,
    AcknowledgeIncident,
    AddIncidentUpdate,
    ResolveIncident,
)

from phoenix_gateway.api.commands import CommandBus
from phoenix_gateway.api.pages import Cursor, Page, page_of
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.readmodel.queries import ReadModel

Note = Annotated[str, msgspec.Meta(max_length=2000)]
IncidentStatus = Literal["open", "acknowledged", "resolved"]


class NoteBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    note: Note = ""


class UpdateBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class TimelineEntry(msgspec.Struct, kw_only=True):
    id: str
    at: datetime
    kind: str  # opened | acknowledged | update | resolved | status_changed
    message: str
    by_user_id: str | None


class Incident(msgspec.Struct, kw_only=True):
    id: str
    monitor_id: str
    title: str
    cause: str
    status: str
    severity: str
    started_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    duration_seconds: float | None
    updated_at: datetime


class IncidentDetail(Incident, kw_only=True):
    timeline: list[TimelineEntry]


def to_incident(row: dict[str, Any]) -> Incident:
    return Incident(
        id=str(row["id"]),
        monitor_id=str(row["monitor_id"]),
        title=row["title"],
        cause=row["cause"],
        status=row["status"],
        severity=row["severity"],
        started_at=row["started_at"],
        acknowledged_at=row["acknowledged_at"],
        resolved_at=row["resolved_at"],
        duration_seconds=row["duration_seconds"],
        updated_at=row["updated_at"],
    )


class IncidentController(Controller):
    path = "/api/v1/incidents"

    @get("/")
    async def list_incidents(
        self,
        principal: Principal,
        read_model: ReadModel,
        status: IncidentStatus | None = None,
        monitor_id: UUID | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
        cursor: Cursor = None,
    ) -> Page[Incident]:
        """Newest first."""
        rows = await read_model.incidents(
            principal.organization_id,
            limit=limit + 1,
            before=cursor,
            status=status,
            monitor_id=str(monitor_id) if monitor_id else None,
        )
        return page_of([to_incident(r) for r in rows], limit)

    @get("/{incident_id:uuid}")
    async def get_incident(
        self, incident_id: Any, principal: Principal, read_model: ReadModel
    ) -> IncidentDetail:
        return await _read(read_model, principal, str(incident_id))

    @post("/{incident_id:uuid}/acknowledge", status_code=200)
    async def acknowledge(
        self,
        incident_id: Any,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
        data: NoteBody | None = None,
    ) -> IncidentDetail:
        return await _act(
            AcknowledgeIncident, str(incident_id), principal, commands, read_model, data
        )

    @post("/{incident_id:uuid}/resolve", status_code=200)
    async def resolve(
        self,
        incident_id: Any,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
        data: NoteBody | None = None,
    ) -> IncidentDetail:
        return await _act(ResolveIncident, str(incident_id), principal, commands, read_model, data)

    @post("/{incident_id:uuid}/updates", status_code=201)
    async def add_update(
        self,
        incident_id: Any,
        data: UpdateBody,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> IncidentDetail:
        await _visible(read_model, principal, str(incident_id))
        await commands.send(
            INCIDENT,
            AddIncidentUpdate(
                organization_id=principal.organization_id,
                incident_id=str(incident_id),
                user_id=principal.user.id,
                message=data.message,
            ),
        )
        return await _read(read_model, principal, str(incident_id))


async def _visible(read_model: ReadModel, principal: Principal, incident_id: str) -> None:
    # The evaluator checks the organization too; this answers 404 without a round trip.
    if await read_model.incident(principal.organization_id, incident_id) is None:
        raise Problem(404, "incident not found")


async def _act(
    command: type[AcknowledgeIncident] | type[ResolveIncident],
    incident_id: str,
    principal: Principal,
    commands: CommandBus,
    read_model: ReadModel,
    data: NoteBody | None,
) -> IncidentDetail:
    """Acknowledge or resolve an incident of the caller's organization, then read it back."""
    await _visible(read_model, principal, incident_id)
    await commands.send(
        INCIDENT,
        command(
            organization_id=principal.organization_id,
            incident_id=incident_id,
            user_id=principal.user.id,
            note=data.note if data else "",
        ),
    )
    return await _read(read_model, principal, incident_id)


async def _read(read_model: ReadModel, principal: Principal, incident_id: str) -> IncidentDetail:
    row = await read_model.incident(principal.organization_id, incident_id)
    if row is None:
        raise Problem(404, "incident not found")
    timeline = [
        TimelineEntry(
            id=entry["event_id"],
            at=entry["at"],
            kind=entry["kind"],
            message=entry["message"],
            by_user_id=entry["by_user_id"] or None,
        )
        for entry in await read_model.incident_timeline(incident_id)
    ]
    incident = to_incident(row)
    return IncidentDetail(
        timeline=timeline, **{f: getattr(incident, f) for f in Incident.__struct_fields__}
    )
