"""Heartbeats of push monitors: ``GET`` or ``POST /api/v1/push/{token}``.

The token is the only credential (a cron job or a device calls this), so an
unknown or malformed token is a plain 404 that says nothing more. A beat is
published as a check result, like any executor's, and judged the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec
from litestar import route
from litestar.params import Parameter
from nats.aio.client import Client
from phoenix_contracts.checks import CheckCompleted, Timings
from phoenix_contracts.monitors import MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.results import publish_result

from phoenix_gateway.api.problems import Problem
from phoenix_gateway.readmodel.queries import ReadModel

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class Beat(msgspec.Struct):
    ok: bool
    monitor_id: str
    status: str


@route("/api/v1/push/{token:str}", http_method=["GET", "POST"], status_code=200)
async def push(
    token: str,
    nats: Client,
    subjects: Subjects,
    read_model: ReadModel,
    status: Literal["up", "down"] = "up",
    msg: Annotated[str, Parameter(max_length=500)] = "",
    ping: Annotated[float | None, Parameter(ge=0, le=3_600_000)] = None,
) -> Beat:
    row = await read_model.by_push_token(token) if TOKEN.fullmatch(token) else None
    if row is None:
        raise Problem(404, "unknown push token")
    spec = msgspec.convert(row["spec"], MonitorSpec)
    now = datetime.now(UTC)
    result = CheckCompleted(
        result_id=uuid7(),
        job_id=f"{row['id']}:push:{uuid7()}",
        monitor_id=str(row["id"]),
        organization_id=str(row["organization_id"]),
        region=spec.regions[0],
        due_at=now,
        started_at=now,
        finished_at=now,
        outcome=status,
        message=msg or f"heartbeat ({status})",
        timings=Timings(total_ms=ping or 0.0),
        error_class=None if status == "up" else "reported",
    )
    # Every beat is a hint: it sets the scheduler's clock for the next expected beat.
    await publish_result(nats.jetstream(), nats, subjects, result, hint=True)
    return Beat(ok=True, monitor_id=result.monitor_id, status=status)
