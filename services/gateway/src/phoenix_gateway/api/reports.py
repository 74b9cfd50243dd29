"""Uptime over standard windows or any range, response-time series, SLA reports.

Answered from the rollups (``readmodel/rollups.py``): a range is read whole
buckets at a time, from the coarsest rollup that fits it (up to 6 h by the
minute, up to 8 days by the hour, beyond by the day), so its edges are those
of the buckets, not to the second.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get
from litestar.params import Parameter
from phoenix_contracts.identity import Principal

from phoenix_gateway.api.history import monitor_row
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.api.timerange import Moment, refuse, time_range
from phoenix_gateway.readmodel.history import Granularity, History, resolution_for
from phoenix_gateway.readmodel.queries import ReadModel
from phoenix_gateway.readmodel.rollups import Rollups

UPTIME_WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "365d": timedelta(days=365),
}
# Most points one series may have: a day of minutes, a month of hours, a year of days.
MAX_SERIES_RANGE: dict[str, timedelta] = {
    "minute": timedelta(days=1),
    "hour": timedelta(days=31),
    "day": timedelta(days=366),
}
# The day rollups are kept 730 days: a longer range reads nothing more.
MAX_REPORT_RANGE = timedelta(days=731)
MAX_REPORT_MONITORS = 1000


class UptimeRange(msgspec.Struct, kw_only=True):
    since: datetime  # start of the first bucket read
    until: datetime
    resolution: str
    checks: int
    uptime_percentage: float | None


class MonitorUptime(msgspec.Struct, kw_only=True):
    monitor_id: str
    windows: dict[str, float | None]  # 24h, 7d, 30d, 90d, 365d → percentage (None: no check)
    range: UptimeRange | None = None


class ResponseTimePoint(msgspec.Struct, kw_only=True):
    start: datetime
    checks: int  # successful checks in the bucket
    avg_ms: float | None
    min_ms: float | None
    p50_ms: float | None  # approximate: within 9.1 % (see docs/architecture.md)
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class ResponseTimes(msgspec.Struct, kw_only=True):
    monitor_id: str
    resolution: str
    since: datetime
    until: datetime
    points: list[ResponseTimePoint]


class SlaLine(msgspec.Struct, kw_only=True):
    monitor_id: str
    name: str
    checks: int
    up: int
    down: int
    uptime_percentage: float | None
    downtime_seconds: float
    incidents: int


class SlaReport(msgspec.Struct, kw_only=True):
    since: datetime
    until: datetime
    resolution: str
    monitors: list[SlaLine]


class MonitorReportController(Controller):
    path = "/api/v1/monitors/{monitor_id:uuid}"

    @get("/uptime")
    async def uptime(
        self,
        monitor_id: Any,
        principal: Principal,
        read_model: ReadModel,
        history: History,
        rollups: Rollups,
        since: Moment = None,
        until: Moment = None,
    ) -> MonitorUptime:
        """Uptime over the last 24 h, 7 d, 30 d, 90 d and 365 d; with since (and until), also
        over that range."""
        now = datetime.now(UTC)
        asked = None
        if since is not None or until is not None:
            asked = time_range(
                since, until, default=timedelta(days=1), longest=MAX_REPORT_RANGE, now=now
            )
        await monitor_row(read_model, principal, str(monitor_id))
        windows = (await history.uptime([str(monitor_id)], now, UPTIME_WINDOWS))[str(monitor_id)]
        answer = MonitorUptime(monitor_id=str(monitor_id), windows=windows)
        if asked is not None:
            found = await rollups.uptime(str(monitor_id), asked.since, asked.until, now)
            answer.range = UptimeRange(
                since=found.since,
                until=found.until,
                resolution=found.resolution,
                checks=found.total,
                uptime_percentage=found.percentage,
            )
        return answer

    @get("/response-times")
    async def response_times(
        self,
        monitor_id: Any,
        principal: Principal,
        read_model: ReadModel,
        rollups: Rollups,
        resolution: Granularity | None = None,
        since: Moment = None,
        until: Moment = None,
    ) -> ResponseTimes:
        """Latency of successful checks per minute, hour or day (UTC buckets, dense);
        by default the last 24 hours by the hour."""
        now = datetime.now(UTC)
        asked = time_range(
            since, until, default=timedelta(hours=24), longest=MAX_REPORT_RANGE, now=now
        )
        start, end = asked.since, asked.until
        chosen: Granularity = resolution or resolution_for(start, end, now)
        if end - start > MAX_SERIES_RANGE[chosen]:
            days = MAX_SERIES_RANGE[chosen].days
            raise refuse("since", f"at most {days} days of {chosen} points per request")
        await monitor_row(read_model, principal, str(monitor_id))
        points = await rollups.response_times(str(monitor_id), chosen, start, end)
        return ResponseTimes(
            monitor_id=str(monitor_id),
            resolution=chosen,
            since=start,
            until=end,
            points=[
                ResponseTimePoint(
                    start=p.start,
                    checks=p.checks,
                    avg_ms=p.avg_ms,
                    min_ms=p.min_ms,
                    p50_ms=p.p50_ms,
                    p95_ms=p.p95_ms,
                    p99_ms=p.p99_ms,
                    max_ms=p.max_ms,
                )
                for p in points
            ],
        )


class ReportController(Controller):
    path = "/api/v1/reports"

    @get("/sla")
    async def sla(
        self,
        principal: Principal,
        rollups: Rollups,
        monitor_id: Annotated[str | None, Parameter(max_length=36)] = None,
        tag: Annotated[str | None, Parameter(max_length=36)] = None,
        since: Moment = None,
        until: Moment = None,
        format: Literal["json", "csv"] = "json",
    ) -> Response[Any]:
        """Per monitor: checks, uptime, downtime and incidents in the range (default: 30 days).
        Either one monitor (monitor_id) or every monitor with a tag (tag: its id)."""
        if (monitor_id is None) == (tag is None):
            raise Problem(
                422,
                "give monitor_id or tag",
                [{"field": "monitor_id", "message": "give exactly one of monitor_id and tag"}],
            )
        asked = time_range(since, until, default=timedelta(days=30), longest=MAX_REPORT_RANGE)
        start, end = asked.since, asked.until
        monitors = await rollups.monitors_for_report(
            principal.organization_id,
            _uuid("monitor_id", monitor_id),
            _uuid("tag", tag),
            limit=MAX_REPORT_MONITORS,
        )
        if monitor_id is not None and not monitors:
            raise Problem(404, "monitor not found")
        now = datetime.now(UTC)
        resolution, lines = await rollups.sla(principal.organization_id, monitors, start, end, now)
        report = SlaReport(
            since=start,
            until=end,
            resolution=resolution,
            monitors=[SlaLine(**line.__dict__) for line in lines],
        )
        if format == "csv":
            return Response(
                _csv(report),
                media_type="text/csv; charset=utf-8",
                headers={"content-disposition": 'attachment; filename="sla.csv"'},
            )
        return Response(report)


def _uuid(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise Problem(
            422, f"{field} must be a UUID", [{"field": field, "message": "not a UUID"}]
        ) from None


CSV_COLUMNS = [
    "monitor_id",
    "name",
    "checks",
    "up",
    "down",
    "uptime_percentage",
    "downtime_seconds",
    "incidents",
]


def _csv(report: SlaReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_COLUMNS, "since", "until"])
    for line in report.monitors:
        writer.writerow(
            [_cell(getattr(line, c)) for c in CSV_COLUMNS]
            + [report.since.isoformat(), report.until.isoformat()]
        )
    return out.getvalue()


# A spreadsheet runs a cell starting with one of these as a formula (tab, CR and
# LF too, in Excel), also after leading blanks, which some of them skip.
FORMULA_STARTS = frozenset("=+-@\t\r\n")


def _cell(value: object) -> str:
    """The value as CSV text that no spreadsheet will run: a leading quote defuses it."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)  # a number (negative too) is data, never a formula
    text = str(value)
    risky = text[:1] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS
    return "'" + text if risky else text
