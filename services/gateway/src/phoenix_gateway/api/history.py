"""A monitor's check history and its hour/day statistics."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get
from litestar.params import Parameter
from phoenix_contracts.identity import Principal
from phoenix_contracts.moments import EARLIEST
from phoenix_contracts.monitors import MonitorSpec

from phoenix_gateway.api.problems import Problem
from phoenix_gateway.api.timerange import Moment, optional_range, time_range
from phoenix_gateway.readmodel.history import PERIOD_LENGTH, History, Period, truncate
from phoenix_gateway.readmodel.queries import ReadModel

# How far back a stats request may reach, per period: a month of hours, a year of days.
MAX_RANGE: dict[str, timedelta] = {"hour": timedelta(days=31), "day": timedelta(days=366)}
DEFAULT_RANGE: dict[str, timedelta] = {"hour": timedelta(hours=24), "day": timedelta(days=30)}
Outcome = Literal["up", "down", "skipped"]


class CheckResult(msgspec.Struct, kw_only=True):
    id: str
    region: str
    checked_at: datetime
    outcome: str
    response_ms: float
    status_code: int | None
    error_class: str | None
    message: str


class CheckPage(msgspec.Struct, kw_only=True):
    items: list[CheckResult]
    next_cursor: str | None


class StatsBucket(msgspec.Struct, kw_only=True):
    start: datetime
    total: int  # up + down; skipped checks are not counted
    up: int
    down: int
    uptime_percentage: float | None  # None: no check in the bucket
    avg_response_ms: float | None  # of successful checks
    min_response_ms: float | None
    max_response_ms: float | None
    downtime_seconds: float  # estimate: failed check slots times the monitor's interval


class Stats(msgspec.Struct, kw_only=True):
    monitor_id: str
    period: str
    since: datetime
    until: datetime
    uptime_percentage: float | None
    buckets: list[StatsBucket]


def encode_cursor(checked_at: datetime, result_id: str) -> str:
    raw = f"{checked_at.astimezone(UTC).isoformat()}|{result_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (checked_at, result_id) a cursor stands for; 400 for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, result_id = raw.partition("|")
        moment = datetime.fromisoformat(at).astimezone(UTC)
        if moment < EARLIEST:  # year 1 would reach PostgreSQL as -infinity
            raise ValueError(at)
        return moment, str(uuid.UUID(result_id))
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        raise Problem(
            400, "invalid cursor", [{"field": "cursor", "message": "use next_cursor as given"}]
        ) from None


class HistoryController(Controller):
    path = "/api/v1/monitors/{monitor_id:uuid}"

    @get("/checks")
    async def list_checks(
        self,
        monitor_id: Any,
        principal: Principal,
        read_model: ReadModel,
        history: History,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
        outcome: Outcome | None = None,
        since: Moment = None,
        until: Moment = None,
    ) -> CheckPage:
        """Newest first."""
        start, end = optional_range(since, until)
        await monitor_row(read_model, principal, str(monitor_id))
        rows = await history.page(
            principal.organization_id,
            str(monitor_id),
            limit=limit + 1,
            after=decode_cursor(cursor) if cursor else None,
            outcome=outcome,
            since=start,
            until=end,
        )
        items = [
            CheckResult(
                id=str(r["result_id"]),
                region=r["region"],
                checked_at=r["checked_at"],
                outcome=r["outcome"],
                response_ms=r["response_ms"],
                status_code=r["status_code"],
                error_class=r["error_class"],
                message=r["message"],
            )
            for r in rows
        ]
        if len(items) <= limit:
            return CheckPage(items=items, next_cursor=None)
        last = items[limit - 1]
        return CheckPage(items=items[:limit], next_cursor=encode_cursor(last.checked_at, last.id))

    @get("/stats")
    async def stats(
        self,
        monitor_id: Any,
        principal: Principal,
        read_model: ReadModel,
        history: History,
        period: Period = "hour",
        since: Moment = None,
        until: Moment = None,
    ) -> Stats:
        """Hour or day buckets (UTC); by default the last 24 hours or the last 30 days."""
        asked = time_range(since, until, default=DEFAULT_RANGE[period], longest=MAX_RANGE[period])
        start = asked.since if since else truncate(asked.since, period)
        end = asked.until
        row = await monitor_row(read_model, principal, str(monitor_id))
        interval = msgspec.convert(row["spec"], MonitorSpec).interval
        buckets = await history.buckets(str(monitor_id), period, start, end)
        up, total = sum(b.up for b in buckets), sum(b.total for b in buckets)
        return Stats(
            monitor_id=str(monitor_id),
            period=period,
            since=start,
            until=end,
            uptime_percentage=round(100.0 * up / total, 3) if total else None,
            buckets=[
                StatsBucket(
                    start=b.start,
                    total=b.total,
                    up=b.up,
                    down=b.down,
                    uptime_percentage=b.uptime_percentage,
                    avg_response_ms=b.avg_ms,
                    min_response_ms=b.min_ms,
                    max_response_ms=b.max_ms,
                    downtime_seconds=b.downtime_seconds(interval, PERIOD_LENGTH[period]),
                )
                for b in buckets
            ],
        )


async def monitor_row(
    read_model: ReadModel, principal: Principal, monitor_id: str
) -> dict[str, Any]:
    row = await read_model.get("monitor", principal.organization_id, monitor_id)
    if row is None:
        raise Problem(404, "monitor not found")
    return row
