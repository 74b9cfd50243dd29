"""When a maintenance window is in force: pure functions of a spec and an instant.

Shared by the config role (to validate a window) and the evaluator (to put
monitors in maintenance). Times of ``recurring`` and ``cron`` windows are
wall-clock times in the window's time zone, so "Sundays 02:00" stays 02:00
across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from phoenix_contracts.maintenance import MaintenanceSpec
from phoenix_contracts.moments import OutOfRange, bounded

DAY = timedelta(days=1)
MAX_DURATION = 7 * 24 * 3600  # seconds; bounds how far back a schedule is searched
# How far ahead the next start is searched; a schedule that never fires (Feb 31)
# is found out once per horizon, not once per check result.
HORIZON = timedelta(days=366)
_FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # minute hour day month weekday


class InvalidSchedule(ValueError):
    """The window's schedule cannot be understood; the message says which field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def validate(spec: MaintenanceSpec) -> MaintenanceSpec:
    """``spec`` with its moments in UTC (none given: UTC), or :class:`InvalidSchedule`
    if it cannot be evaluated. Moments are bounded like every date-time a client
    names: a year-1 or year-9999 window would overflow whoever adds a duration to it."""
    try:
        spec = msgspec.structs.replace(
            spec,
            start_at=spec.start_at and bounded("start_at", spec.start_at),
            end_at=spec.end_at and bounded("end_at", spec.end_at),
        )
    except OutOfRange as exc:
        raise InvalidSchedule(exc.field, str(exc)) from None
    _zone(spec.timezone)
    if not 60 <= spec.duration_seconds <= MAX_DURATION:
        raise InvalidSchedule("duration_seconds", f"must be 60 to {MAX_DURATION} seconds")
    if spec.strategy == "single":
        if spec.start_at is None or spec.end_at is None:
            raise InvalidSchedule("start_at", "a single window needs start_at and end_at")
        if spec.end_at <= spec.start_at:
            raise InvalidSchedule("end_at", "must be after start_at")
    if spec.strategy == "recurring":
        _start_time(spec.start_time)
        if any(not 0 <= day <= 6 for day in spec.weekdays):
            raise InvalidSchedule("weekdays", "days are 0 (Monday) to 6 (Sunday)")
    if spec.strategy == "cron":
        parse_cron(spec.cron)
    return spec


def in_force(spec: MaintenanceSpec, active: bool, at: datetime) -> bool:
    """Whether the window covers the instant ``at`` (timezone-aware)."""
    if not active:
        return False
    if spec.strategy in ("manual", "single"):
        return _covers_absolute(spec, at)
    return Schedule(spec).latest_start(at) is not None


class Schedule:
    """A window's schedule, compiled once per change, answering "in force at t?" in O(1).

    The evaluator asks for every check result; walking the calendar each time
    made one window that never fires cost milliseconds per result. Instead the
    last answer is kept with the stretch of wall-clock time it holds for (until
    the firing's duration ends, or until the next firing), and the calendar is
    searched again only once ``at`` leaves that stretch. ``searches`` counts
    those walks, for tests and benchmarks.
    """

    def __init__(self, spec: MaintenanceSpec) -> None:
        self.spec = spec
        self.searches = 0
        self._calendar = _calendar(spec) if spec.strategy in ("recurring", "cron") else None
        self._zone = _zone(spec.timezone) if self._calendar is not None else None
        self._duration = timedelta(seconds=spec.duration_seconds)
        # [from, until) in local wall-clock time, and the answer throughout it
        self._span: tuple[datetime, datetime, bool] | None = None

    def covers(self, at: datetime) -> bool:
        """Whether the schedule (ignoring ``active``) covers the instant ``at``."""
        if self._calendar is None or self._zone is None:
            return _covers_absolute(self.spec, at)
        wall = _wall(at, self._zone)
        if self._span is None or not self._span[0] <= wall < self._span[1]:
            self._span = self._span_at(self._calendar, wall)
        return self._span[2]

    def latest_start(self, at: datetime) -> datetime | None:
        """The wall-clock start of the firing covering ``at``, if one does."""
        if self._calendar is None or self._zone is None:
            return None
        return _latest_start(self._calendar, _wall(at, self._zone), self._duration)

    def _span_at(self, calendar: _Calendar, wall: datetime) -> tuple[datetime, datetime, bool]:
        self.searches += 1
        start = _latest_start(calendar, wall, self._duration)
        if start is not None:
            return start, start + self._duration, True
        # Nothing covers ``wall``, nor anything later until the next firing. A
        # schedule that never fires (Feb 31) is searched once per HORIZON.
        following = _next_start(calendar, wall, wall + HORIZON)
        return wall, following or wall + HORIZON, False


def _covers_absolute(spec: MaintenanceSpec, at: datetime) -> bool:
    if spec.strategy == "manual":
        return True
    if spec.start_at is None or spec.end_at is None:
        return False
    # A window stored before moments were bounded may lack an offset: it meant UTC.
    return _aware(spec.start_at) <= at < _aware(spec.end_at)


def _aware(moment: datetime) -> datetime:
    # Not astimezone: comparing aware moments never overflows, converting one may.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _wall(at: datetime, zone: ZoneInfo) -> datetime:
    # Recurring and cron windows live in naive local wall-clock time: "02:00" is
    # 02:00 on both sides of a daylight-saving change.
    return at.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True)
class _Calendar:
    """The minutes a schedule starts at; hours and minutes sorted for walking."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # Python's: 0 = Monday

    def fires_on(self, day: date) -> bool:
        return day.month in self.months and day.day in self.days and day.weekday() in self.weekdays

    def starts_on(self, day: date, latest_first: bool) -> Iterator[datetime]:
        if not self.fires_on(day):
            return
        hours = reversed(self.hours) if latest_first else self.hours
        for hour in hours:
            minutes = reversed(self.minutes) if latest_first else self.minutes
            for minute in minutes:
                yield datetime.combine(day, time(hour, minute))


def _calendar(spec: MaintenanceSpec) -> _Calendar:
    if spec.strategy == "recurring":
        hour, minute = _start_time(spec.start_time)
        weekdays = frozenset(spec.weekdays) if spec.weekdays else frozenset(range(7))
        return _Calendar(
            (minute,), (hour,), frozenset(range(1, 32)), frozenset(range(1, 13)), weekdays
        )
    minutes, hours, days, months, cron_weekdays = parse_cron(spec.cron)
    # cron counts from Sunday (0 or 7), Python from Monday (0)
    weekdays = frozenset((day - 1) % 7 for day in cron_weekdays)
    return _Calendar(
        tuple(sorted(minutes)), tuple(sorted(hours)), frozenset(days), frozenset(months), weekdays
    )


def _latest_start(calendar: _Calendar, wall: datetime, duration: timedelta) -> datetime | None:
    """The latest start at or before ``wall`` whose firing still covers it."""
    earliest = wall - duration
    day = wall.date()
    while day >= earliest.date():
        for start in calendar.starts_on(day, latest_first=True):
            if start <= wall:
                return start if start > earliest else None
        day -= DAY
    return None


def _next_start(calendar: _Calendar, wall: datetime, horizon: datetime) -> datetime | None:
    """The first start after ``wall``, if there is one before ``horizon``."""
    day = wall.date()
    while day <= horizon.date():
        for start in calendar.starts_on(day, latest_first=False):
            if start > wall:
                return start if start < horizon else None
        day += DAY
    return None


def parse_cron(expression: str) -> list[set[int]]:
    """Five fields with ``*``, ``a``, ``a-b``, ``*/n``, ``a-b/n`` and lists; no names."""
    parts = expression.split()
    if len(parts) != 5:
        raise InvalidSchedule("cron", "a cron expression has five fields: m h dom mon dow")
    return [_field(part, low, high) for part, (low, high) in zip(parts, _FIELDS, strict=True)]


def _field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        body, _, step_text = item.partition("/")
        step = _number(step_text, 1, high) if step_text else 1
        if body == "*":
            first, last = low, high
        elif "-" in body:
            first_text, _, last_text = body.partition("-")
            first, last = _number(first_text, low, high), _number(last_text, low, high)
        else:
            first = last = _number(body, low, high)
        if first > last:
            raise InvalidSchedule("cron", f"range {body!r} runs backwards")
        values.update(range(first, last + 1, step))
    return values


def _number(text: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidSchedule("cron", f"{text!r} is not a number from {low} to {high}")
    return int(text)


def _start_time(text: str) -> tuple[int, int]:
    hour, _, minute = text.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise InvalidSchedule("start_time", "a recurring window needs start_time as HH:MM")
    return int(hour), int(minute)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule("timezone", f"unknown time zone {name!r}") from None
