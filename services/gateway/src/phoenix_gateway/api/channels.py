"""Notification channels and alert rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter
from nats.aio.client import Client
from phoenix_contracts.channels import ChannelType, secrets_of
from phoenix_contracts.identity import Principal
from phoenix_contracts.notifications import (
    ALERT_RULE,
    CHANNEL,
    MAX_RESEND_INTERVAL,
    AlertRuleSpec,
    ChannelSpec,
    ChannelTested,
    CreateAlertRule,
    CreateChannel,
    DeleteAlertRule,
    DeleteChannel,
    TestChannel,
    UpdateAlertRule,
    UpdateChannel,
)
from phoenix_contracts.subjects import Subjects

from phoenix_gateway.api.commands import CommandBus, call
from phoenix_gateway.api.pages import Cursor, Page, UuidText, page_of
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.readmodel.queries import ReadModel

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Id = UuidText
Limit = Annotated[int, Parameter(ge=1, le=500)]
# Each type's fields are checked by the config role (phoenix_contracts.channels).
Config = Annotated[dict[str, Any], msgspec.Meta(max_length=50)]


ResendInterval = Annotated[int, msgspec.Meta(ge=0, le=MAX_RESEND_INTERVAL)]


class ChannelCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    type: ChannelType
    config: Config
    is_default: bool = False


Unset = msgspec.UnsetType


class ChannelUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields sent change; ``config`` is replaced whole. The type is fixed."""

    name: Name | Unset = msgspec.UNSET
    type: ChannelType | Unset = msgspec.UNSET
    # A secret sent back as "********" is kept, as long as where it goes stays the same.
    config: Config | Unset = msgspec.UNSET
    is_default: bool | Unset = msgspec.UNSET


class Channel(ChannelCreate, kw_only=True):
    id: str
    created_at: datetime


class ChannelTestResult(msgspec.Struct):
    ok: bool
    error: str | None
    permanent: bool
    duration_ms: float


class AlertRuleCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    event: Literal["down", "recovered", "degraded", "certificate_expiring", "flapping"]
    scope: Literal["all", "tags", "monitors"] = "all"
    notification_channel_ids: Annotated[list[Id], msgspec.Meta(max_length=50)]
    monitor_ids: Annotated[list[Id], msgspec.Meta(max_length=1000)] = msgspec.field(
        default_factory=list
    )
    tag_ids: Annotated[list[Id], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    is_active: bool = True
    resend_interval_seconds: ResendInterval = 0


class AlertRuleUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the fields sent change."""

    name: Name | Unset = msgspec.UNSET
    event: Literal["down", "recovered", "degraded", "certificate_expiring", "flapping"] | Unset = (
        msgspec.UNSET
    )
    scope: Literal["all", "tags", "monitors"] | Unset = msgspec.UNSET
    notification_channel_ids: Annotated[list[Id], msgspec.Meta(max_length=50)] | Unset = (
        msgspec.UNSET
    )
    monitor_ids: Annotated[list[Id], msgspec.Meta(max_length=1000)] | Unset = msgspec.UNSET
    tag_ids: Annotated[list[Id], msgspec.Meta(max_length=100)] | Unset = msgspec.UNSET
    description: Annotated[str, msgspec.Meta(max_length=2000)] | Unset = msgspec.UNSET
    is_active: bool | Unset = msgspec.UNSET
    resend_interval_seconds: ResendInterval | Unset = msgspec.UNSET


def merged(current: msgspec.Struct, fields: tuple[str, ...], changes: msgspec.Struct) -> Any:
    """The current values of ``fields`` overlaid with the fields a PATCH sent."""
    kept = {f: getattr(current, f) for f in fields}
    sent = {k: v for k, v in msgspec.structs.asdict(changes).items() if v is not msgspec.UNSET}
    return msgspec.to_builtins({**kept, **sent})


class AlertRule(AlertRuleCreate, kw_only=True):
    id: str
    created_at: datetime


def to_channel(row: dict[str, Any]) -> Channel:
    """A channel as the API shows it: secrets masked, never returned in any form."""
    return Channel(
        id=str(row["id"]),
        name=row["name"],
        type=row["type"],
        config=secrets_of(row["type"]).masked(row["config"]),
        is_default=row["is_default"],
        created_at=row["created_at"],
    )


def keep_masked(sent: dict[str, Any], stored: dict[str, Any], channel_type: str) -> dict[str, Any]:
    """A PATCH's config with every masked secret replaced by the stored (sealed) one; the
    config role refuses it if anything deciding where that secret goes changed."""
    return secrets_of(channel_type).kept(sent, stored)


def to_alert_rule(row: dict[str, Any]) -> AlertRule:
    spec = msgspec.convert(row["spec"], AlertRuleSpec)
    fields = {f: getattr(spec, f) for f in AlertRuleCreate.__struct_fields__}
    return AlertRule(id=str(row["id"]), created_at=row["created_at"], **fields)


async def _row(
    read_model: ReadModel, kind: str, principal: Principal, item_id: str
) -> dict[str, Any]:
    row = await read_model.get(kind, principal.organization_id, item_id)
    if row is None:
        raise Problem(404, f"{kind.replace('_', ' ')} not found")
    return row


class ChannelController(Controller):
    path = "/api/v1/notification-channels"

    @post("/", status_code=201)
    async def create(
        self, data: ChannelCreate, principal: Principal, commands: CommandBus, read_model: ReadModel
    ) -> Channel:
        spec = msgspec.convert(msgspec.to_builtins(data), ChannelSpec)
        accepted = await commands.send(
            CHANNEL, CreateChannel(organization_id=principal.organization_id, spec=spec)
        )
        return to_channel(await _row(read_model, "channel", principal, accepted.aggregate_id))

    @get("/")
    async def list_channels(
        self, principal: Principal, read_model: ReadModel, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[Channel]:
        rows = await read_model.list(
            "channel", principal.organization_id, limit=limit + 1, after=cursor
        )
        return page_of([to_channel(r) for r in rows], limit)

    @get("/{channel_id:uuid}")
    async def get_channel(
        self, channel_id: Any, principal: Principal, read_model: ReadModel
    ) -> Channel:
        return to_channel(await _row(read_model, "channel", principal, str(channel_id)))

    @patch("/{channel_id:uuid}")
    async def update(
        self,
        channel_id: Any,
        data: ChannelUpdate,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> Channel:
        row = await _row(read_model, "channel", principal, str(channel_id))
        current = to_channel(row)
        fields = merged(current, ChannelCreate.__struct_fields__, data)
        fields["config"] = keep_masked(fields["config"], row["config"], row["type"])
        spec = msgspec.convert(fields, ChannelSpec)
        await commands.send(
            CHANNEL,
            UpdateChannel(
                organization_id=principal.organization_id, channel_id=current.id, spec=spec
            ),
        )
        return to_channel(await _row(read_model, "channel", principal, current.id))

    @post("/{channel_id:uuid}/test", status_code=200)
    async def send_test(
        self, channel_id: Any, principal: Principal, nats: Client, subjects: Subjects
    ) -> ChannelTestResult:
        """Sends a real test message through the channel now and says what happened."""
        command = TestChannel(organization_id=principal.organization_id, channel_id=str(channel_id))
        reply = await call(
            nats,
            subjects.command(CHANNEL, TestChannel.verb),
            command,
            ChannelTested,
            timeout=30.0,
            owner="the notifier",
        )
        return ChannelTestResult(
            ok=reply.ok, error=reply.error, permanent=reply.permanent, duration_ms=reply.duration_ms
        )

    @delete("/{channel_id:uuid}", status_code=204)
    async def remove(self, channel_id: Any, principal: Principal, commands: CommandBus) -> None:
        await commands.send(
            CHANNEL,
            DeleteChannel(organization_id=principal.organization_id, channel_id=str(channel_id)),
        )


class AlertRuleController(Controller):
    path = "/api/v1/alert-rules"

    @post("/", status_code=201)
    async def create(
        self,
        data: AlertRuleCreate,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> AlertRule:
        spec = msgspec.convert(msgspec.to_builtins(data), AlertRuleSpec)
        accepted = await commands.send(
            ALERT_RULE, CreateAlertRule(organization_id=principal.organization_id, spec=spec)
        )
        return to_alert_rule(await _row(read_model, "alert_rule", principal, accepted.aggregate_id))

    @get("/")
    async def list_rules(
        self, principal: Principal, read_model: ReadModel, limit: Limit = 50, cursor: Cursor = None
    ) -> Page[AlertRule]:
        rows = await read_model.list(
            "alert_rule", principal.organization_id, limit=limit + 1, after=cursor
        )
        return page_of([to_alert_rule(r) for r in rows], limit)

    @get("/{rule_id:uuid}")
    async def get_rule(
        self, rule_id: Any, principal: Principal, read_model: ReadModel
    ) -> AlertRule:
        return to_alert_rule(await _row(read_model, "alert_rule", principal, str(rule_id)))

    @patch("/{rule_id:uuid}")
    async def update(
        self,
        rule_id: Any,
        data: AlertRuleUpdate,
        principal: Principal,
        commands: CommandBus,
        read_model: ReadModel,
    ) -> AlertRule:
        current = to_alert_rule(await _row(read_model, "alert_rule", principal, str(rule_id)))
        spec = msgspec.convert(
            merged(current, AlertRuleCreate.__struct_fields__, data), AlertRuleSpec
        )
        await commands.send(
            ALERT_RULE,
            UpdateAlertRule(
                organization_id=principal.organization_id, alert_rule_id=current.id, spec=spec
            ),
        )
        return to_alert_rule(await _row(read_model, "alert_rule", principal, current.id))

    @delete("/{rule_id:uuid}", status_code=204)
    async def remove(self, rule_id: Any, principal: Principal, commands: CommandBus) -> None:
        await commands.send(
            ALERT_RULE,
            DeleteAlertRule(organization_id=principal.organization_id, alert_rule_id=str(rule_id)),
        )
