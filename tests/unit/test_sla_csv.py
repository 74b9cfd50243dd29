"""The SLA report as CSV: no monitor name reaches a spreadsheet as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from phoenix_gateway.api.reports import SlaLine, SlaReport, _csv

SINCE = datetime(2026, 3, 1, tzinfo=UTC)


def exported_name(name: str) -> str:
    line = SlaLine(
        monitor_id="m1",
        name=name,
        checks=10,
        up=9,
        down=1,
        uptime_percentage=90.0,
        downtime_seconds=60.0,
        incidents=1,
    )
    report = SlaReport(since=SINCE, until=SINCE, resolution="day", monitors=[line])
    (row,) = csv.DictReader(io.StringIO(_csv(report)))
    return row["name"]


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        "\tplain after a tab",
        "\rplain after a return",
        "  =1+1",
        " \t @SUM(A1)",
        "\u00a0=1+1",
    ],
    ids=[
        "equals",
        "plus",
        "minus",
        "at",
        "tab",
        "carriage-return",
        "line-feed",
        "lone-tab",
        "lone-return",
        "spaces-then-equals",
        "blanks-then-at",
        "no-break-space",
    ],
)
def test_a_name_a_spreadsheet_would_run_is_quoted(name: str) -> None:
    assert exported_name(name) == "'" + name


@pytest.mark.parametrize("name", ["shop", "a=b", "C++ API", "", "x-1", "mail@host"])
def test_an_ordinary_name_is_left_alone(name: str) -> None:
    assert exported_name(name) == name


def test_numbers_are_written_as_numbers() -> None:
    report = _csv(
        SlaReport(
            since=SINCE,
            until=SINCE,
            resolution="day",
            monitors=[
                SlaLine(
                    monitor_id="m1",
                    name="n",
                    checks=0,
                    up=0,
                    down=0,
                    uptime_percentage=None,
                    downtime_seconds=-1.5,
                    incidents=0,
                )
            ],
        )
    )
    (row,) = csv.DictReader(io.StringIO(report))
    assert (row["uptime_percentage"], row["downtime_seconds"]) == ("", "-1.5")
