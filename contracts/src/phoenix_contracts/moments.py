"""One bound for every date-time a client may name: in a body, a query or a command.

Here, in the contracts, because every edge that reads a date-time (the gateway's
query parameters, the config role's maintenance windows, auth's API keys) must
bound it the same way. Beyond these bounds a moment is no use to anyone and
costs a lot: year 1 is ``datetime.min``, which asyncpg sends as ``-infinity``;
year 9999 west of UTC is year 10000 in UTC, which PostgreSQL stores but no
Python ``datetime`` can read back; adding a duration to either overflows.
"""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class OutOfRange(ValueError):
    """A moment outside [EARLIEST, LATEST]; ``field`` names where it was sent."""

    def __init__(self, field: str) -> None:
        super().__init__(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
        self.field = field


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; one without an offset is taken to be UTC already.
    OverflowError when its UTC time is beyond what a ``datetime`` holds."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def in_bounds(moment: datetime) -> bool:
    """Pure: whether ``moment`` (aware, in any offset) lies in [EARLIEST, LATEST]."""
    return EARLIEST <= moment <= LATEST


def bounded(field: str, moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime within [EARLIEST, LATEST], else OutOfRange."""
    try:
        utc = as_utc(moment)
    except OverflowError:  # year 1 east of UTC, year 9999 west of it
        raise OutOfRange(field) from None
    if not in_bounds(utc):
        raise OutOfRange(field)
    return utc
