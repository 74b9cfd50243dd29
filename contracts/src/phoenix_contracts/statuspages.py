"""Status-page family: public pages showing a set of monitors (owned by the config role).

A page's password never travels or rests in clear: the gateway hashes it
(scrypt) before the command is sent, and only the hash is in the events.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from phoenix_contracts.base import Event, Message

STATUS_PAGE = "statuspage"
# Bounds of a page's numbers, read by the gateway's body and the config role alike.
MIN_REFRESH = 30  # seconds; 0 turns auto-refresh off
MAX_REFRESH = 86_400
MAX_WEIGHT = 1_000_000


class StatusPageMonitor(msgspec.Struct, frozen=True, kw_only=True):
    monitor_id: str
    display_name: str = ""  # shown instead of the monitor's own name when set
    weight: int = 0  # the page lists monitors by weight, then as given


class StatusPageSpec(msgspec.Struct, frozen=True, kw_only=True):
    slug: str  # [a-z0-9-], 3 to 64, unique across the installation
    name: str
    description: str = ""
    is_public: bool = True
    theme: str = "auto"  # light | dark | auto
    footer_text: str = ""
    show_uptime_percentage: bool = True
    auto_refresh_interval: int = 0  # seconds, 0 = off, else at least 30
    monitors: list[StatusPageMonitor] = msgspec.field(default_factory=list)


class StatusPageCreated(Event, frozen=True, kw_only=True, tag="statuspage.created"):
    aggregate: ClassVar[str] = STATUS_PAGE
    spec: StatusPageSpec
    password_hash: str = ""  # "" = no password


class StatusPageUpdated(Event, frozen=True, kw_only=True, tag="statuspage.updated"):
    aggregate: ClassVar[str] = STATUS_PAGE
    spec: StatusPageSpec
    password_hash: str | None = None  # None = unchanged, "" = removed, else the new hash


class StatusPageMonitorsSet(Event, frozen=True, kw_only=True, tag="statuspage.monitors_set"):
    aggregate: ClassVar[str] = STATUS_PAGE
    monitors: list[StatusPageMonitor]


class StatusPageDeleted(Event, frozen=True, kw_only=True, tag="statuspage.deleted"):
    aggregate: ClassVar[str] = STATUS_PAGE


StatusPageEvent = StatusPageCreated | StatusPageUpdated | StatusPageMonitorsSet | StatusPageDeleted


class CreateStatusPage(Message, frozen=True, kw_only=True, tag="create_status_page"):
    verb: ClassVar[str] = "create"
    organization_id: str
    spec: StatusPageSpec
    password_hash: str = ""
    correlation_id: str = ""


class UpdateStatusPage(Message, frozen=True, kw_only=True, tag="update_status_page"):
    verb: ClassVar[str] = "update"
    organization_id: str
    status_page_id: str
    spec: StatusPageSpec
    password_hash: str | None = None  # None = keep, "" = remove
    correlation_id: str = ""


class SetStatusPageMonitors(Message, frozen=True, kw_only=True, tag="set_status_page_monitors"):
    verb: ClassVar[str] = "set_monitors"
    organization_id: str
    status_page_id: str
    monitors: list[StatusPageMonitor]
    correlation_id: str = ""


class DeleteStatusPage(Message, frozen=True, kw_only=True, tag="delete_status_page"):
    verb: ClassVar[str] = "delete"
    organization_id: str
    status_page_id: str
    correlation_id: str = ""


StatusPageCommand = CreateStatusPage | UpdateStatusPage | SetStatusPageMonitors | DeleteStatusPage
STATUS_PAGE_VERBS = ("create", "update", "set_monitors", "delete")
