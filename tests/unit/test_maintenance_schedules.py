"""When a maintenance window is in force (``phoenix_platform.maintenance``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phoenix_contracts.maintenance import MaintenanceSpec
from phoenix_platform.maintenance import InvalidSchedule, Schedule, in_force, parse_cron, validate

# Sunday 2026-03-29 is the day Europe/Berlin moves its clocks forward (02:00 → 03:00).
MON = datetime(2026, 3, 23, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, zone: str = "UTC") -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo(zone))


def window(**fields: object) -> MaintenanceSpec:
    return MaintenanceSpec(title="w", **fields)  # type: ignore[arg-type]


def test_a_manual_window_is_in_force_exactly_while_active() -> None:
    spec = window(strategy="manual")
    assert in_force(spec, True, MON)
    assert not in_force(spec, False, MON)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (MON - timedelta(seconds=1), False),
        (MON, True),
        (MON + timedelta(minutes=59), True),
        (MON + timedelta(hours=1), False),
    ],
    ids=["before", "at-start", "inside", "at-end-exclusive"],
)
def test_a_single_window_covers_start_inclusive_to_end_exclusive(
    moment: datetime, expected: bool
) -> None:
    spec = window(strategy="single", start_at=MON, end_at=MON + timedelta(hours=1))
    assert in_force(spec, True, moment) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(24, 2, 30, "Europe/Berlin"), True),  # Tuesday 02:30 local
        (at(24, 4, 0, "Europe/Berlin"), False),  # after the 2 h
        (at(25, 2, 30, "Europe/Berlin"), False),  # Wednesday is not listed
        (at(27, 3, 59, "Europe/Berlin"), True),  # Friday, inside
        (at(28, 0, 30, "UTC"), False),
    ],
    ids=["tuesday-inside", "tuesday-after", "wednesday", "friday-inside", "saturday"],
)
def test_a_recurring_window_follows_local_wall_clock_on_its_weekdays(
    moment: datetime, expected: bool
) -> None:
    spec = window(
        strategy="recurring",
        weekdays=[1, 4],
        start_time="02:00",
        duration_seconds=7200,
        timezone="Europe/Berlin",
    )
    assert in_force(spec, True, moment) is expected


def test_a_recurring_window_that_crosses_midnight_covers_the_next_morning() -> None:
    spec = window(strategy="recurring", start_time="23:00", duration_seconds=3 * 3600)
    assert in_force(spec, True, at(24, 1, 30))
    assert not in_force(spec, True, at(24, 2, 30))


@pytest.mark.parametrize(
    ("cron", "moment", "expected"),
    [
        ("0 3 * * 0", at(29, 3, 20), True),  # Sundays 03:00 for 30 min
        ("0 3 * * 7", at(29, 3, 20), True),  # 7 is Sunday too
        ("0 3 * * 0", at(29, 3, 30), False),
        ("0 3 * * 0", at(28, 3, 20), False),  # Saturday
        ("*/15 * * * *", at(24, 10, 44), True),
        ("0 9-17/4 * * 1-5", at(24, 13, 10), True),
        ("0 9-17/4 * * 1-5", at(24, 11, 10), False),
        ("30 2 1,15 * *", at(15, 2, 45), True),
    ],
)
def test_a_cron_window_lasts_its_duration_from_each_firing(
    cron: str, moment: datetime, expected: bool
) -> None:
    spec = window(strategy="cron", cron=cron, duration_seconds=1800)
    assert in_force(spec, True, moment) is expected


def test_a_disabled_scheduled_window_is_never_in_force() -> None:
    spec = window(strategy="cron", cron="* * * * *", duration_seconds=3600)
    assert not in_force(spec, False, MON)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (window(strategy="single", start_at=MON), "start_at"),
        (window(strategy="single", start_at=MON, end_at=MON), "end_at"),
        (window(strategy="recurring", start_time="25:00"), "start_time"),
        (window(strategy="recurring", start_time="02:00", weekdays=[7]), "weekdays"),
        (window(strategy="cron", cron="0 3 * *"), "cron"),
        (window(strategy="cron", cron="61 * * * *"), "cron"),
        (window(strategy="cron", cron="0 5-1 * * *"), "cron"),
        (window(strategy="cron", cron="0 3 * * sun"), "cron"),
        (window(timezone="Mars/Olympus"), "timezone"),
        (window(duration_seconds=10), "duration_seconds"),
    ],
    ids=[
        "single-no-end",
        "single-empty",
        "bad-time",
        "bad-weekday",
        "four-fields",
        "minute-61",
        "backwards-range",
        "names-unsupported",
        "unknown-zone",
        "too-short",
    ],
)
def test_an_unusable_schedule_is_refused_naming_the_field(
    spec: MaintenanceSpec, field: str
) -> None:
    with pytest.raises(InvalidSchedule) as error:
        validate(spec)
    assert error.value.field == field


def test_cron_fields_expand_lists_ranges_and_steps() -> None:
    minutes, hours, days, months, weekdays = parse_cron("0,30 */6 1-3 1-12/6 *")
    assert minutes == {0, 30}
    assert hours == {0, 6, 12, 18}
    assert days == {1, 2, 3}
    assert months == {1, 7}
    assert weekdays == set(range(8))


def by_definition(spec: MaintenanceSpec, moment: datetime) -> bool:
    """The definition, walked minute by minute: some start covers ``moment``'s wall-clock time."""
    from zoneinfo import ZoneInfo

    wall = moment.astimezone(ZoneInfo(spec.timezone)).replace(tzinfo=None)
    minute = wall.replace(second=0, microsecond=0)
    if spec.strategy == "recurring":
        hour, _, mm = spec.start_time.partition(":")
        cron = f"{int(mm)} {int(hour)} * * " + (
            ",".join(str((day + 1) % 7) for day in spec.weekdays) or "*"
        )
    else:
        cron = spec.cron
    minutes, hours, days, months, weekdays = parse_cron(cron)
    while minute > wall - timedelta(seconds=spec.duration_seconds):
        cron_weekday = (minute.weekday() + 1) % 7
        if (
            minute.minute in minutes
            and minute.hour in hours
            and minute.day in days
            and minute.month in months
            and (cron_weekday in weekdays or (cron_weekday == 0 and 7 in weekdays))
        ):
            return True
        minute -= timedelta(minutes=1)
    return False


SCHEDULES = st.one_of(
    st.builds(
        lambda cron, duration, zone: window(
            strategy="cron", cron=cron, duration_seconds=duration, timezone=zone
        ),
        st.sampled_from(
            [
                "*/15 * * * *",
                "0 3 * * 0",
                "30 2 1,15 * *",
                "0 9-17/4 * * 1-5",
                "0 0 31 2 *",
                "59 23 29 2 *",
                "0 2 * 3 7",
                "5,50 1-3 * * 6",
            ]
        ),
        st.sampled_from([60, 1800, 7200, 90_000, 604_800]),
        st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
    ),
    st.builds(
        lambda days, start, duration, zone: window(
            strategy="recurring",
            weekdays=days,
            start_time=start,
            duration_seconds=duration,
            timezone=zone,
        ),
        st.lists(st.integers(0, 6), max_size=3, unique=True),
        st.sampled_from(["00:00", "02:30", "23:59"]),
        st.sampled_from([60, 7200, 172_800]),
        st.sampled_from(["UTC", "Europe/Berlin"]),
    ),
)
# Around the 2026 spring and autumn clock changes, a leap day and a year's end.
MOMENTS = st.lists(
    st.datetimes(
        min_value=datetime(2026, 3, 20),
        max_value=datetime(2026, 4, 5),
        timezones=st.just(UTC),
    )
    | st.datetimes(
        min_value=datetime(2026, 10, 20), max_value=datetime(2026, 11, 5), timezones=st.just(UTC)
    )
    | st.datetimes(
        min_value=datetime(2027, 12, 25), max_value=datetime(2028, 3, 5), timezones=st.just(UTC)
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=80, deadline=None)
@given(spec=SCHEDULES, moments=MOMENTS)
def test_a_compiled_schedule_answers_as_the_definition_in_any_order_of_instants(
    spec: MaintenanceSpec, moments: list[datetime]
) -> None:
    schedule = Schedule(spec)  # one schedule asked in turn: its cached span must never lie
    duration = timedelta(seconds=spec.duration_seconds)
    for moment in moments:
        # each instant, just after it, at and just past its span's end, and back in time
        for instant in (
            moment,
            moment + timedelta(seconds=30),
            moment + duration,
            moment + duration + timedelta(seconds=59),
            moment - timedelta(hours=1),
        ):
            expected = by_definition(spec, instant)
            assert schedule.covers(instant) is expected, instant
            assert in_force(spec, True, instant) is expected, instant


def test_a_schedule_is_searched_again_only_when_its_span_has_passed() -> None:
    spec = window(strategy="cron", cron="0 3 * * *", duration_seconds=1800)
    schedule = Schedule(spec)
    minutes = [at(24, 2) + timedelta(minutes=n) for n in range(24 * 60)]  # a whole day
    answers = [schedule.covers(moment) for moment in minutes]
    assert sum(answers) == 30
    # before 03:00, the 03:00-03:30 firing, after it until tomorrow's 03:00
    assert schedule.searches == 3
