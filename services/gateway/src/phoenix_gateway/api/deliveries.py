"""The delivery log: what was sent where, what failed and why; and sending a failure again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from phoenix_contracts.identity import Principal
from phoenix_contracts.notifications import DELIVERY, RetryDelivery
from phoenix_platform.logging import current_correlation

from phoenix_gateway.api.commands import CommandBus
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.readmodel.deliveries import DeliveryFilter, DeliveryReads

Status = Literal["pending", "sent", "failed", "skipped"]


class Delivery(msgspec.Struct, kw_only=True):
    id: str
    channel_id: str
    channel_type: str
    alert_rule_id: str | None
    monitor_id: str
    incident_id: str | None
    event: str
    resend: int  # 0: the alert itself; n: its n-th reminder
    status: str
    attempts: int
    last_error: str | None
    permanent: bool  # the last error will not go away by retrying as is
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


class DeliveryPage(msgspec.Struct):
    items: list[Delivery]
    next_cursor: str | None


def to_delivery(row: dict[str, Any]) -> Delivery:
    fields: dict[str, Any] = {
        name: (str(row[name]) if name.endswith("id") and row[name] else row[name])
        for name in Delivery.__struct_fields__
    }
    return Delivery(**fields)


class DeliveryController(Controller):
    path = "/api/v1/deliveries"

    @get("/")
    async def list_deliveries(
        self,
        principal: Principal,
        deliveries: DeliveryReads,
        monitor_id: UUID | None = None,
        incident_id: UUID | None = None,
        channel_id: UUID | None = None,
        status: Status | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Parameter(pattern=r"^[0-9]{1,18}$")] = None,
    ) -> DeliveryPage:
        """Newest first; filter by monitor, incident, channel or status."""
        rows = await deliveries.page(
            principal.organization_id,
            DeliveryFilter(
                monitor_id=str(monitor_id) if monitor_id else None,
                incident_id=str(incident_id) if incident_id else None,
                channel_id=str(channel_id) if channel_id else None,
                status=status,
            ),
            before=int(cursor) if cursor else None,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return DeliveryPage(
            items=[to_delivery(r) for r in rows],
            next_cursor=str(rows[-1]["seq"]) if more else None,
        )

    @get("/{delivery_id:uuid}")
    async def get_delivery(
        self, delivery_id: Any, principal: Principal, deliveries: DeliveryReads
    ) -> Delivery:
        row = await deliveries.get(principal.organization_id, str(delivery_id))
        if row is None:
            raise Problem(404, "delivery not found")
        return to_delivery(row)

    @post("/{delivery_id:uuid}/retry", status_code=200)
    async def retry(
        self,
        delivery_id: Any,
        principal: Principal,
        commands: CommandBus,
        deliveries: DeliveryReads,
    ) -> Delivery:
        """Send a failed delivery again (after fixing the channel, say)."""
        await commands.send(
            DELIVERY,
            RetryDelivery(
                organization_id=principal.organization_id,
                delivery_id=str(delivery_id),
                by_user_id=principal.user.id,
                correlation_id=current_correlation(),
            ),
        )
        row = await deliveries.get(principal.organization_id, str(delivery_id))
        if row is None:
            raise Problem(404, "delivery not found")
        return to_delivery(row)
