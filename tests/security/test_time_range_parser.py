"""The time-range parser on any text: a moment within the bounds or a 422 naming the
parameter, never another error and never a moment PostgreSQL would read as infinity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from phoenix_gateway.api.problems import Problem
from phoenix_gateway.api.timerange import AHEAD, EARLIEST, parse_moment, time_range

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
MOMENTS = st.one_of(
    st.text(max_size=64),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),  # naive: read as UTC
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@given(raw=MOMENTS)
def test_any_text_is_a_bounded_moment_or_a_422_naming_the_field(raw: str) -> None:
    try:
        moment = parse_moment("since", raw, NOW)
    except Problem as problem:
        refused = problem
    else:
        refused = None
    if refused is not None:
        assert (refused.status_code, refused.errors[0]["field"]) == (422, "since")
        return
    assert moment is not None
    assert moment.tzinfo is not None
    assert EARLIEST <= moment <= NOW + AHEAD


@given(since=MOMENTS, until=MOMENTS)
def test_a_range_is_ordered_and_capped_or_refused(since: str, until: str) -> None:
    longest = timedelta(days=31)
    try:
        found = time_range(since, until, default=timedelta(days=1), longest=longest, now=NOW)
    except Problem as problem:
        refused = problem
    else:
        refused = None
    if refused is not None:
        assert refused.status_code == 422
        assert refused.errors[0]["field"] in {"since", "until"}
        return
    assert EARLIEST <= found.since < found.until <= NOW + AHEAD
    assert found.until - found.since <= longest


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-05-01T00:00:00Z", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T02:00:00+02:00", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T00:00:00", datetime(2026, 5, 1, tzinfo=UTC)),
        ("1777593600", datetime(2026, 5, 1, tzinfo=UTC)),
    ],
)
def test_the_usual_forms_are_read(raw: str, expected: datetime) -> None:
    assert parse_moment("until", raw, NOW) == expected
