"""Tags: create, list, read, change, delete; and the tags of a monitor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.params import Parameter
from phoenix_contracts.identity import Principal
from phoenix_contracts.monitors import MONITOR, MonitorSpec, UpdateMonitor
from phoenix_contracts.tags import TAG, CreateTag, DeleteTag, TagSpec, UpdateTag

from phoenix_gateway.api.commands import CommandBus
from phoenix_gateway.api.pages import Cursor, Page, UuidText, page_of
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.readmodel.queries import ReadModel

Id = UuidText
# Lengths only: the config role checks the content and names the field (422).
TagName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Color = Annotated[str, msgspec.Meta(max_length=32)]
Description = Annotated[str, msgspec.Meta(max_length=500)]


class TagCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: TagName
    color: Color = "#808080"
    description: Description = ""


class TagUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields sent change."""

    name: TagName | msgspec.UnsetType = msgspec.UNSET
    color: Color | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET


class Tag(msgspec.Struct, kw_only=True):
    id: str
    name: str
    color: str
    description: str
    created_at: datetime
    updated_at: datetime


class MonitorTagsBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    tag_ids: Annotated[list[Id], msgspec.Meta(max_length=100)]


class MonitorTags(msgspec.Struct, kw_only=True):
    monitor_id: str
    tag_ids: list[str]
    tags: list[Tag]


def to_tag(row: dict[str, Any]) -> Tag:
    return Tag(
        id=str(row["id"]),
        name=row["name"],
        color=row["color"],
        description=row["description"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class TagController(Controller):
    path = "/api/v1/tags"

    @post("/", status_code=201)
    async def create(
        self, data: TagCreate, principal: Principal, commands: CommandBus, read_model: ReadModel
    ) -> Tag:
        spec = TagSpec(name=data.name, color=data.color, description=data.description)
        accepted = await commands.send(
            TAG, CreateTag(organization_id=principal.organization_id, spec=spec)
        )
        return await _read(read_model, principal, accepted.aggregate_id)

    @get("/")
    async def list_tags(
        self,
        principal: Principal,
        read_model: ReadModel,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        cursor: Cursor = None,
    ) -> Page[Tag]:
        rows = await read_model.list(
            "tag", principal.organization_id, limit=limit + 1, after=cursor
        )
        return page_of([to_tag(r) for r in rows], limit)

    @get("/{tag_id:uuid}")
    async def get_tag(self, tag_id: Any, principal: Principal, read_model: ReadModel) -> Tag:
        return await _read(read_model, principal, str(tag_id))

    @patch("/{tag_id:uuid}")
    async def update(
        self,
        tag_id: Any,
        data: TagUpdate,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> Tag:
        current = await _read(read_model, principal, str(tag_id))
        spec = TagSpec(
            name=current.name if data.name is msgspec.UNSET else data.name,
            color=current.color if data.color is msgspec.UNSET else data.color,
            description=(
                current.description if data.description is msgspec.UNSET else data.description
            ),
        )
        await commands.send(
            TAG, UpdateTag(organization_id=principal.organization_id, tag_id=current.id, spec=spec)
        )
        return await _read(read_model, principal, current.id)

    @delete("/{tag_id:uuid}", status_code=204)
    async def remove(self, tag_id: Any, principal: Principal, commands: CommandBus) -> None:
        await commands.send(
            TAG, DeleteTag(organization_id=principal.organization_id, tag_id=str(tag_id))
        )


class MonitorTagController(Controller):
    path = "/api/v1/monitors/{monitor_id:uuid}/tags"

    @get("/")
    async def get_monitor_tags(
        self, monitor_id: Any, principal: Principal, read_model: ReadModel
    ) -> MonitorTags:
        return await _monitor_tags(read_model, principal, str(monitor_id))

    @put("/")
    async def replace_monitor_tags(
        self,
        monitor_id: Any,
        data: MonitorTagsBody,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> MonitorTags:
        """Replaces the monitor's tags with ``tag_ids`` (every one a tag of yours)."""
        row = await read_model.get("monitor", principal.organization_id, str(monitor_id))
        if row is None:
            raise Problem(404, "monitor not found")
        wanted = list(dict.fromkeys(data.tag_ids))
        known = {
            str(t["id"]) for t in await read_model.tags_by_id(principal.organization_id, wanted)
        }
        unknown = [t for t in wanted if t not in known]
        if unknown:
            raise Problem(
                422,
                "unknown tag(s)",
                [{"field": "tag_ids", "message": f"unknown tag(s): {', '.join(unknown)}"}],
            )
        spec = msgspec.convert(row["spec"], MonitorSpec)
        await commands.send(
            MONITOR,
            UpdateMonitor(
                organization_id=principal.organization_id,
                monitor_id=str(monitor_id),
                spec=msgspec.structs.replace(spec, tag_ids=wanted),
            ),
        )
        return await _monitor_tags(read_model, principal, str(monitor_id))


async def _monitor_tags(
    read_model: ReadModel, principal: Principal, monitor_id: str
) -> MonitorTags:
    row = await read_model.get("monitor", principal.organization_id, monitor_id)
    if row is None:
        raise Problem(404, "monitor not found")
    tag_ids = msgspec.convert(row["spec"], MonitorSpec).tag_ids
    rows = {
        str(t["id"]): t for t in await read_model.tags_by_id(principal.organization_id, tag_ids)
    }
    present = [t for t in tag_ids if t in rows]  # a deleted tag drops out
    return MonitorTags(
        monitor_id=monitor_id, tag_ids=present, tags=[to_tag(rows[t]) for t in present]
    )


async def _read(read_model: ReadModel, principal: Principal, tag_id: str) -> Tag:
    row = await read_model.get("tag", principal.organization_id, tag_id)
    if row is None:
        raise Problem(404, "tag not found")
    return to_tag(row)
