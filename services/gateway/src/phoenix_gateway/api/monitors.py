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


# Each field's bounds, defined once: MonitorCreate and MonitorUpdate both use these
# (tests/unit/test_monitor_bounds.py fails if they ever disagree). The config role
# checks what a bound here cannot say: known regions, total header bytes, the URL.
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Url = Annotated[str, msgspec.Meta(max_length=2048)]
Interval = Annotated[int, msgspec.Meta(ge=1, le=86_400)]
Timeout = Annotated[float, msgspec.Meta(gt=0, le=300)]
Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
HeaderName = Annotated[str, msgspec.Meta(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")]
Headers = Annotated[
    dict[HeaderName, Annotated[str, msgspec.Meta(max_length=8192)]], msgspec.Meta(max_length=50)
]
Body = Annotated[str, msgspec.Meta(max_length=65_536)]
StatusRange = Annotated[str, msgspec.Meta(pattern=r"^[1-5][0-9]{2}(-[1-5][0-9]{2})?$")]
StatusRanges = Annotated[list[StatusRange], msgspec.Meta(min_length=1, max_length=20)]
Redirects = Annotated[int, msgspec.Meta(ge=0, le=20)]
Region = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
Regions = Annotated[list[Region], msgspec.Meta(min_length=1, max_length=10)]
Threshold = Annotated[int, msgspec.Meta(ge=1, le=20)]
Quorum = Annotated[int, msgspec.Meta(ge=1, le=10)]
DegradedAfter = Annotated[int, msgspec.Meta(ge=1, le=300_000)]
WarningDays = Annotated[
    list[Annotated[int, msgspec.Meta(ge=0, le=365)]], msgspec.Meta(max_length=10)
]
Keyword = Annotated[str, msgspec.Meta(max_length=1024)]
KeywordMode = Literal["contains", "not_contains"]
JsonPath = Annotated[str, msgspec.Meta(max_length=512)]
JsonOperator = Literal["==", "!=", "<", ">", "contains"]
ExpectedValue = Annotated[str, msgspec.Meta(max_length=1024)]
Hostname = Annotated[str, msgspec.Meta(max_length=253)]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
RecordType = Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"]
Resolver = Annotated[str, msgspec.Meta(max_length=64)]
Grace = Annotated[int, msgspec.Meta(ge=0, le=86_400)]
ExpectedValues = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=512)]], msgspec.Meta(max_length=20)
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
    body: Body | None = None
    accepted_status_codes: StatusRanges = msgspec.field(default_factory=lambda: ["200-299"])
    max_redirects: Redirects = 10
    ignore_tls_errors: bool = False
    regions: Regions = msgspec.field(default_factory=lambda: ["default"])
    failure_threshold: Threshold = 3
    recovery_threshold: Threshold = 2
    quorum: Quorum = 1
    degraded_after_ms: DegradedAfter | None = None
    retry_interval: Interval | None = None
    cert_warning_days: WarningDays = msgspec.field(default_factory=lambda: [30, 14, 7, 1])
    keyword: Keyword = ""
    keyword_mode: KeywordMode = "contains"
    keyword_case_sensitive: bool = False
    json_path: JsonPath = ""
    json_operator: JsonOperator = "=="
    expected_value: ExpectedValue = ""
    hostname: Hostname = ""
    port: Port | None = None
    dns_record_type: RecordType = "A"
    dns_resolver: Resolver = ""
    grace: Grace = 30
    expected_values: ExpectedValues = msgspec.field(default_factory=list)


Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class MonitorUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields sent change; each bounded exactly as in MonitorCreate."""

    name: Name | Unset = UNSET
    url: Url | Unset = UNSET
    interval: Interval | Unset = UNSET
    timeout: Timeout | Unset = UNSET
    method: Method | Unset = UNSET
    headers: Headers | Unset = UNSET
    body: Body | Unset | None = UNSET
    accepted_status_codes: StatusRanges | Unset = UNSET
    max_redirects: Redirects | Unset = UNSET
    ignore_tls_errors: bool | Unset = UNSET
    regions: Regions | Unset = UNSET
    failure_threshold: Threshold | Unset = UNSET
    recovery_threshold: Threshold | Unset = UNSET
    quorum: Quorum | Unset = UNSET
    degraded_after_ms: DegradedAfter | Unset | None = UNSET
    retry_interval: Interval | Unset | None = UNSET
    cert_warning_days: WarningDays | Unset = UNSET
    keyword: Keyword | Unset = UNSET
    keyword_mode: KeywordMode | Unset = UNSET
    keyword_case_sensitive: bool | Unset = UNSET
    json_path: JsonPath | Unset = UNSET
    json_operator: JsonOperator | Unset = UNSET
    expected_value: ExpectedValue | Unset = UNSET
    hostname: Hostname | Unset = UNSET
    port: Port | Unset | None = UNSET
    dns_record_type: RecordType | Unset = UNSET
    dns_resolver: Resolver | Unset = UNSET
    expected_values: ExpectedValues | Unset = UNSET
    grace: Grace | Unset = UNSET


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
