"""Monitors: create, list, read, change, pause, resume, delete."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter
from phoenix_contracts.identity import Principal
from phoenix_contracts.monitors import (
    MONITOR,
    MONITOR_SECRETS,
    CreateMonitor,
    DeleteMonitor,
    MonitorSpec,
    MonitorStatus,
    PauseMonitor,
    ResumeMonitor,
    UpdateMonitor,
)

from phoenix_gateway.api.commands import CommandBus
from phoenix_gateway.api.pages import Cursor, Page, page_of
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.readmodel.queries import MonitorFilter, ReadModel


async def _tag_id(read_model: ReadModel, organization_id: str, tag: str) -> str | None:
    try:
        return str(uuid.UUID(tag))
    except ValueError:
        return (await read_model.tag_names(organization_id)).get(tag.lower())


Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Url = Annotated[str, msgspec.Meta(max_length=2048)]
Interval = Annotated[int, msgspec.Meta(ge=1, le=86_400)]
Timeout = Annotated[float, msgspec.Meta(gt=0, le=300)]
Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
StatusRange = Annotated[str, msgspec.Meta(pattern=r"^[1-5][0-9]{2}(-[1-5][0-9]{2})?$")]
Region = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
Threshold = Annotated[int, msgspec.Meta(ge=1, le=20)]
Headers = Annotated[
    dict[str, Annotated[str, msgspec.Meta(max_length=8192)]], msgspec.Meta(max_length=50)
]
MonitorType = Literal["http", "keyword", "json", "tls", "tcp", "dns", "ping", "push"]


class MonitorCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    type: MonitorType
    url: Url = ""
    interval: Interval = 60
    timeout: Timeout = 10.0
    method: Method = "GET"
    headers: Headers = msgspec.field(default_factory=dict)
    body: Annotated[str, msgspec.Meta(max_length=65_536)] | None = None
    accepted_status_codes: Annotated[
        list[StatusRange], msgspec.Meta(min_length=1, max_length=20)
    ] = msgspec.field(default_factory=lambda: ["200-299"])
    max_redirects: Annotated[int, msgspec.Meta(ge=0, le=20)] = 10
    ignore_tls_errors: bool = False
    regions: Annotated[list[Region], msgspec.Meta(min_length=1, max_length=10)] = msgspec.field(
        default_factory=lambda: ["default"]
    )
    failure_threshold: Threshold = 3
    recovery_threshold: Threshold = 2
    quorum: Annotated[int, msgspec.Meta(ge=1, le=10)] = 1
    degraded_after_ms: Annotated[int, msgspec.Meta(ge=1, le=300_000)] | None = None
    retry_interval: Interval | None = None
    cert_warning_days: Annotated[
        list[Annotated[int, msgspec.Meta(ge=0, le=365)]], msgspec.Meta(max_length=10)
    ] = msgspec.field(default_factory=lambda: [30, 14, 7, 1])
    keyword: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    keyword_mode: Literal["contains", "not_contains"] = "contains"
    keyword_case_sensitive: bool = False
    json_path: Annotated[str, msgspec.Meta(max_length=512)] = ""
    json_operator: Literal["==", "!=", "<", ">", "contains"] = "=="
    expected_value: Annotated[str, msgspec.Meta(max_length=1024)] = ""
    hostname: Annotated[str, msgspec.Meta(max_length=253)] = ""
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None
    dns_record_type: Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"] = "A"
    dns_resolver: Annotated[str, msgspec.Meta(max_length=64)] = ""
    grace: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 30
    expected_values: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=512)]], msgspec.Meta(max_length=20)
    ] = msgspec.field(default_factory=list)


class MonitorUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields sent change."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    url: Url | msgspec.UnsetType = msgspec.UNSET
    interval: Interval | msgspec.UnsetType = msgspec.UNSET
    timeout: Timeout | msgspec.UnsetType = msgspec.UNSET
    method: Method | msgspec.UnsetType = msgspec.UNSET
    headers: Headers | msgspec.UnsetType = msgspec.UNSET
    body: str | msgspec.UnsetType | None = msgspec.UNSET
    accepted_status_codes: list[StatusRange] | msgspec.UnsetType = msgspec.UNSET
    max_redirects: Annotated[int, msgspec.Meta(ge=0, le=20)] | msgspec.UnsetType = msgspec.UNSET
    ignore_tls_errors: bool | msgspec.UnsetType = msgspec.UNSET
    regions: list[Region] | msgspec.UnsetType = msgspec.UNSET
    failure_threshold: Threshold | msgspec.UnsetType = msgspec.UNSET
    recovery_threshold: Threshold | msgspec.UnsetType = msgspec.UNSET
    quorum: Annotated[int, msgspec.Meta(ge=1, le=10)] | msgspec.UnsetType = msgspec.UNSET
    degraded_after_ms: Annotated[int, msgspec.Meta(ge=1)] | msgspec.UnsetType | None = msgspec.UNSET
    retry_interval: Interval | msgspec.UnsetType | None = msgspec.UNSET
    cert_warning_days: list[int] | msgspec.UnsetType = msgspec.UNSET
    keyword: str | msgspec.UnsetType = msgspec.UNSET
    keyword_mode: Literal["contains", "not_contains"] | msgspec.UnsetType = msgspec.UNSET
    keyword_case_sensitive: bool | msgspec.UnsetType = msgspec.UNSET
    json_path: str | msgspec.UnsetType = msgspec.UNSET
    json_operator: Literal["==", "!=", "<", ">", "contains"] | msgspec.UnsetType = msgspec.UNSET
    expected_value: str | msgspec.UnsetType = msgspec.UNSET
    hostname: str | msgspec.UnsetType = msgspec.UNSET
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | msgspec.UnsetType | None = msgspec.UNSET
    dns_record_type: Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    dns_resolver: str | msgspec.UnsetType = msgspec.UNSET
    expected_values: list[str] | msgspec.UnsetType = msgspec.UNSET
    grace: Annotated[int, msgspec.Meta(ge=0, le=86_400)] | msgspec.UnsetType = msgspec.UNSET


class Monitor(MonitorCreate, kw_only=True):
    id: str
    push_token: str  # push monitors: beats go to /api/v1/push/<push_token>
    tag_ids: list[str]  # set through PUT /api/v1/monitors/{id}/tags
    status: str
    status_reason: str
    status_changed_at: datetime | None
    paused: bool
    created_at: datetime
    updated_at: datetime


def to_monitor(row: dict[str, Any]) -> Monitor:
    spec = msgspec.convert(row["spec"], MonitorSpec)
    # Secrets are write-only: credential headers are shown as "********".
    fields = MONITOR_SECRETS.masked({f: getattr(spec, f) for f in MonitorCreate.__struct_fields__})
    return Monitor(
        id=str(row["id"]),
        push_token=spec.push_token,
        tag_ids=spec.tag_ids,
        status=row["status"],
        status_reason=row["status_reason"],
        status_changed_at=row["status_changed_at"],
        paused=row["paused"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        **fields,
    )


class MonitorController(Controller):
    path = "/api/v1/monitors"

    @post("/", status_code=201)
    async def create(
        self, data: MonitorCreate, principal: Principal, commands: CommandBus, read_model: ReadModel
    ) -> Monitor:
        spec = msgspec.convert(msgspec.to_builtins(data), MonitorSpec)
        accepted = await commands.send(
            MONITOR, CreateMonitor(organization_id=principal.organization_id, spec=spec)
        )
        return await self._read(read_model, principal, accepted.aggregate_id)

    @get("/")
    async def list_monitors(
        self,
        principal: Principal,
        read_model: ReadModel,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
        cursor: Cursor = None,
        status: MonitorStatus | None = None,
        type: MonitorType | None = None,
        tag: Annotated[
            str | None,
            Parameter(max_length=100, description="a tag's id or name (any case)"),
        ] = None,
        q: Annotated[
            str | None,
            Parameter(max_length=200, description="text in the name, URL or host name"),
        ] = None,
    ) -> Page[Monitor]:
        tag_id = await _tag_id(read_model, principal.organization_id, tag) if tag else None
        if tag and tag_id is None:
            return page_of([], limit)  # no such tag: nothing carries it
        rows = await read_model.monitors(
            principal.organization_id,
            limit=limit + 1,
            after=cursor,
            where=MonitorFilter(status=status, type=type, tag_id=tag_id, text=q or None),
        )
        return page_of([to_monitor(r) for r in rows], limit)

    @get("/{monitor_id:uuid}")
    async def get_monitor(
        self, monitor_id: Any, principal: Principal, read_model: ReadModel
    ) -> Monitor:
        return await self._read(read_model, principal, str(monitor_id))

    @patch("/{monitor_id:uuid}")
    async def update(
        self,
        monitor_id: Any,
        data: MonitorUpdate,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> Monitor:
        row = await self._row(read_model, principal, str(monitor_id))
        current = to_monitor(row)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        kept = {f: getattr(current, f) for f in MonitorCreate.__struct_fields__}
        merged = {**kept, "tag_ids": current.tag_ids, **changes}
        # Masked secret headers back to their stored (sealed) values; the config role
        # refuses them if the monitor now points elsewhere.
        merged = MONITOR_SECRETS.kept(merged, row["spec"])
        spec = msgspec.convert(merged, MonitorSpec)
        await commands.send(
            MONITOR,
            UpdateMonitor(
                organization_id=principal.organization_id, monitor_id=current.id, spec=spec
            ),
        )
        return await self._read(read_model, principal, current.id)

    @post("/{monitor_id:uuid}/pause", status_code=200)
    async def pause(
        self, monitor_id: Any, principal: Principal, commands: CommandBus, read_model: ReadModel
    ) -> Monitor:
        await commands.send(
            MONITOR,
            PauseMonitor(organization_id=principal.organization_id, monitor_id=str(monitor_id)),
        )
        return await self._read(read_model, principal, str(monitor_id))

    @post("/{monitor_id:uuid}/resume", status_code=200)
    async def resume(
        self, monitor_id: Any, principal: Principal, commands: CommandBus, read_model: ReadModel
    ) -> Monitor:
        await commands.send(
            MONITOR,
            ResumeMonitor(organization_id=principal.organization_id, monitor_id=str(monitor_id)),
        )
        return await self._read(read_model, principal, str(monitor_id))

    @delete("/{monitor_id:uuid}", status_code=204)
    async def remove(self, monitor_id: Any, principal: Principal, commands: CommandBus) -> None:
        await commands.send(
            MONITOR,
            DeleteMonitor(organization_id=principal.organization_id, monitor_id=str(monitor_id)),
        )

    @staticmethod
    async def _read(read_model: ReadModel, principal: Principal, monitor_id: str) -> Monitor:
        return to_monitor(await MonitorController._row(read_model, principal, monitor_id))

    @staticmethod
    async def _row(read_model: ReadModel, principal: Principal, monitor_id: str) -> dict[str, Any]:
        row = await read_model.get("monitor", principal.organization_id, monitor_id)
        if row is None:
            raise Problem(404, "monitor not found")
        return row
