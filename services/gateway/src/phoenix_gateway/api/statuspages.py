"""Status pages: create, list, read, change, delete; and the monitors a page shows.

The password is write-only: it is hashed here, before the command leaves the
gateway, and answers only say ``has_password``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.params import Parameter
from phoenix_contracts.identity import Principal
from phoenix_contracts.statuspages import (
    MAX_REFRESH,
    MAX_WEIGHT,
    STATUS_PAGE,
    CreateStatusPage,
    DeleteStatusPage,
    SetStatusPageMonitors,
    StatusPageMonitor,
    StatusPageSpec,
    UpdateStatusPage,
)

from phoenix_gateway.api.commands import CommandBus
from phoenix_gateway.api.pages import Cursor, Page, UuidText, page_of
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.api.public_status import PublicPages
from phoenix_gateway.readmodel.queries import ReadModel
from phoenix_gateway.statuspage.passwords import hash_password

# Lengths only: the config role checks the content and names the field (422).
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Text = Annotated[str, msgspec.Meta(max_length=5000)]
Password = Annotated[str, msgspec.Meta(max_length=1024)]
Theme = Literal["light", "dark", "auto"]
Refresh = Annotated[int, msgspec.Meta(ge=0, le=MAX_REFRESH)]
MIN_PASSWORD = 8


class PageMonitor(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    monitor_id: UuidText
    display_name: Annotated[str, msgspec.Meta(max_length=500)] = ""
    weight: Annotated[int, msgspec.Meta(ge=-MAX_WEIGHT, le=MAX_WEIGHT)] = 0


Monitors = Annotated[list[PageMonitor], msgspec.Meta(max_length=500)]


class StatusPageCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slug: Slug
    name: Name
    description: Text = ""
    is_public: bool = True
    password: Password = ""  # write-only; "" = none
    theme: Theme = "auto"
    footer_text: Text = ""
    show_uptime_percentage: bool = True
    auto_refresh_interval: Refresh = 0
    monitors: Monitors = msgspec.field(default_factory=list)


class StatusPageUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields sent change; ``password: ""`` removes the password."""

    slug: Slug | msgspec.UnsetType = msgspec.UNSET
    name: Name | msgspec.UnsetType = msgspec.UNSET
    description: Text | msgspec.UnsetType = msgspec.UNSET
    is_public: bool | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET
    theme: Theme | msgspec.UnsetType = msgspec.UNSET
    footer_text: Text | msgspec.UnsetType = msgspec.UNSET
    show_uptime_percentage: bool | msgspec.UnsetType = msgspec.UNSET
    auto_refresh_interval: Refresh | msgspec.UnsetType = msgspec.UNSET
    monitors: Monitors | msgspec.UnsetType = msgspec.UNSET


class StatusPage(msgspec.Struct, kw_only=True):
    id: str
    slug: str
    name: str
    description: str
    is_public: bool
    has_password: bool
    theme: str
    footer_text: str
    show_uptime_percentage: bool
    auto_refresh_interval: int
    monitors: list[PageMonitor]
    created_at: datetime
    updated_at: datetime


class PageMonitorsBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    monitors: Monitors


class PageMonitors(msgspec.Struct, kw_only=True):
    status_page_id: str
    monitors: list[PageMonitor]


def to_status_page(row: dict[str, Any]) -> StatusPage:
    spec = msgspec.convert(row["spec"], StatusPageSpec)
    return StatusPage(
        id=str(row["id"]),
        slug=spec.slug,
        name=spec.name,
        description=spec.description,
        is_public=spec.is_public,
        has_password=row["has_password"],
        theme=spec.theme,
        footer_text=spec.footer_text,
        show_uptime_percentage=spec.show_uptime_percentage,
        auto_refresh_interval=spec.auto_refresh_interval,
        monitors=_monitors_out(spec.monitors),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _monitors_in(monitors: list[PageMonitor]) -> list[StatusPageMonitor]:
    return [
        StatusPageMonitor(monitor_id=m.monitor_id, display_name=m.display_name, weight=m.weight)
        for m in monitors
    ]


def _monitors_out(monitors: list[StatusPageMonitor]) -> list[PageMonitor]:
    return [
        PageMonitor(monitor_id=m.monitor_id, display_name=m.display_name, weight=m.weight)
        for m in monitors
    ]


async def _password_hash(password: str) -> str:
    """ "" stays "" (no password); anything else must be long enough, and is hashed."""
    if not password:
        return ""
    if len(password) < MIN_PASSWORD:
        message = f"at least {MIN_PASSWORD} characters, or empty for no password"
        raise Problem(422, message, [{"field": "password", "message": message}])
    return await hash_password(password)


class StatusPageController(Controller):
    path = "/api/v1/status-pages"

    @post("/", status_code=201)
    async def create(
        self,
        data: StatusPageCreate,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> StatusPage:
        fields = msgspec.structs.asdict(data)
        fields.pop("password")
        spec = StatusPageSpec(**{**fields, "monitors": _monitors_in(data.monitors)})
        command = CreateStatusPage(
            organization_id=principal.organization_id,
            spec=spec,
            password_hash=await _password_hash(data.password),
        )
        accepted = await commands.send(STATUS_PAGE, command)
        return await _read(read_model, principal, accepted.aggregate_id)

    @get("/")
    async def list_status_pages(
        self,
        principal: Principal,
        read_model: ReadModel,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        cursor: Cursor = None,
    ) -> Page[StatusPage]:
        rows = await read_model.list(
            "status_page", principal.organization_id, limit=limit + 1, after=cursor
        )
        return page_of([to_status_page(r) for r in rows], limit)

    @get("/{page_id:uuid}")
    async def get_status_page(
        self, page_id: Any, principal: Principal, read_model: ReadModel
    ) -> StatusPage:
        return await _read(read_model, principal, str(page_id))

    @patch("/{page_id:uuid}")
    async def update(
        self,
        page_id: Any,
        data: StatusPageUpdate,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
        public_pages: PublicPages,
    ) -> StatusPage:
        current = await _read(read_model, principal, str(page_id))
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        password = changes.pop("password", None)
        kept = {f: getattr(current, f) for f in StatusPageSpec.__struct_fields__}
        merged = {**kept, **changes}
        spec = StatusPageSpec(**{**merged, "monitors": _monitors_in(merged["monitors"])})
        command = UpdateStatusPage(
            organization_id=principal.organization_id,
            status_page_id=current.id,
            spec=spec,
            password_hash=None if password is None else await _password_hash(password),
        )
        await commands.send(STATUS_PAGE, command)
        await public_pages.views.forget([current.id])  # the owner sees the edit at once
        return await _read(read_model, principal, current.id)

    @delete("/{page_id:uuid}", status_code=204)
    async def remove(
        self, page_id: Any, principal: Principal, commands: CommandBus, public_pages: PublicPages
    ) -> None:
        await commands.send(
            STATUS_PAGE,
            DeleteStatusPage(
                organization_id=principal.organization_id, status_page_id=str(page_id)
            ),
        )
        await public_pages.views.forget([str(page_id)])  # gone from its address at once

    @get("/{page_id:uuid}/monitors")
    async def get_monitors(
        self, page_id: Any, principal: Principal, read_model: ReadModel
    ) -> PageMonitors:
        page = await _read(read_model, principal, str(page_id))
        return PageMonitors(status_page_id=page.id, monitors=page.monitors)

    @put("/{page_id:uuid}/monitors")
    async def set_monitors(
        self,
        page_id: Any,
        data: PageMonitorsBody,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
        public_pages: PublicPages,
    ) -> PageMonitors:
        """Replaces the page's monitors (every one a monitor of yours)."""
        await commands.send(
            STATUS_PAGE,
            SetStatusPageMonitors(
                organization_id=principal.organization_id,
                status_page_id=str(page_id),
                monitors=_monitors_in(data.monitors),
            ),
        )
        await public_pages.views.forget([str(page_id)])
        page = await _read(read_model, principal, str(page_id))
        return PageMonitors(status_page_id=page.id, monitors=page.monitors)


async def _read(read_model: ReadModel, principal: Principal, page_id: str) -> StatusPage:
    row = await read_model.get("status_page", principal.organization_id, page_id)
    if row is None:
        raise Problem(404, "status page not found")
    return to_status_page(row)
