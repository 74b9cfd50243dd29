"""The one parser of time-range query parameters (``since``, ``until``).

A moment is bounded to what the history can hold: not before 2000 (the bound
every date-time a client names shares, ``phoenix_contracts.moments``), not more
than a day ahead. Beyond those, PostgreSQL meets ``-infinity`` (year 1 is
``datetime.min`` to asyncpg) or a series without end; inside them, each route
still caps the span it reads. Every refusal is a 422 naming the parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from litestar.params import Parameter
from phoenix_contracts.moments import EARLIEST

from phoenix_gateway.api.problems import Problem

AHEAD = timedelta(days=1)  # clocks differ; a little of the future is not an error
_NUMBER = re.compile(r"^-?[0-9]{1,20}(\.[0-9]{1,9})?$")
MAX_UNIX_SECONDS = 1e11  # about year 5100: well past any bound, still a datetime

Moment = Annotated[
    str | None,
    Parameter(
        max_length=64,
        description="RFC 3339 date-time (no offset: UTC) or Unix seconds;"
        " from 2000-01-01 to a day from now",
        schema_extra={"format": "date-time"},
    ),
]


@dataclass(frozen=True)
class TimeRange:
    since: datetime
    until: datetime


def refuse(field: str, message: str) -> Problem:
    return Problem(422, message, [{"field": field, "message": message}])


def parse_moment(field: str, raw: str | None, now: datetime) -> datetime | None:
    """``raw`` as an aware UTC datetime within [EARLIEST, now + AHEAD]; None when absent."""
    if raw is None:
        return None
    try:
        moment: datetime | None = _parse(raw.strip())
    except ValueError:
        raise refuse(field, f"{field} must be a date-time such as 2024-05-01T00:00:00Z") from None
    except (OverflowError, OSError):  # no datetime holds it: out of range all the same
        moment = None
    if moment is None or not EARLIEST <= moment <= now + AHEAD:
        raise refuse(field, f"{field} must be between {EARLIEST:%Y-%m-%d} and a day from now")
    return moment


def _parse(raw: str) -> datetime:
    """Pure: the UTC moment ``raw`` names (no offset: UTC). ValueError: not a moment;
    OverflowError: beyond what a datetime holds (year 1 east of UTC, say)."""
    if _NUMBER.match(raw):
        seconds = float(raw)
        if abs(seconds) > MAX_UNIX_SECONDS:
            raise OverflowError(raw)
        return datetime.fromtimestamp(seconds, UTC)
    moment = datetime.fromisoformat(raw)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def time_range(
    since: str | None,
    until: str | None,
    *,
    default: timedelta,
    longest: timedelta,
    now: datetime | None = None,
) -> TimeRange:
    """[since, until): ``until`` defaults to now, ``since`` to ``default`` before it;
    at most ``longest`` long (a route's bound on the rows or buckets it reads)."""
    now = now or datetime.now(UTC)
    end = parse_moment("until", until, now) or now
    start = parse_moment("since", since, now) or end - default
    if start >= end:
        raise refuse("since", "since must be before until")
    if end - start > longest:
        raise refuse("since", f"at most {longest.days} days per request")
    return TimeRange(start, end)


def optional_range(
    since: str | None, until: str | None, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """Filters of a paginated list: either end may be open, both bounded when given."""
    now = now or datetime.now(UTC)
    start, end = parse_moment("since", since, now), parse_moment("until", until, now)
    if start is not None and end is not None and start >= end:
        raise refuse("since", "since must be before until")
    return start, end
