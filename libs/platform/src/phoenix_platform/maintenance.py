"""When a maintenance window is in force: pure functions of a spec and an instant.

Shared by the config role (to validate a window) and the evaluator (to put
monitors in maintenance). Times of ``recurring`` and ``cron`` windows are
wall-clock times in the window's time zone, so "Sundays 02:00" stays 02:00
across daylight-saving changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from phoenix_contracts.maintenance import MaintenanceSpec

MINUTE = timedelta(minutes=1)
MAX_DURATION = 7 * 24 * 3600  # seconds; bounds how far back a cron window is searched
_FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))  # minute hour day month weekday


class InvalidSchedule(ValueError):
    """The window's schedule cannot be understood; the message says which field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def validate(spec: MaintenanceSpec) -> None:
    """Raise :class:`InvalidSchedule` if ``spec`` cannot be evaluated."""
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


def in_force(spec: MaintenanceSpec, active: bool, at: datetime) -> bool:
    """Whether the window covers the instant ``at`` (timezone-aware)."""
    if not active:
        return False
    if spec.strategy == "manual":
        return True
    if spec.strategy == "single":
        return (
            spec.start_at is not None
            and spec.end_at is not None
            and (spec.start_at <= at < spec.end_at)
        )
    local = at.astimezone(_zone(spec.timezone))
    duration = timedelta(seconds=spec.duration_seconds)
    if spec.strategy == "recurring":
        return any(start <= local < start + duration for start in _recent_starts(spec, local))
    return _cron_fired_within(parse_cron(spec.cron), local, duration)


def _recent_starts(spec: MaintenanceSpec, local: datetime) -> list[datetime]:
    hour, minute = _start_time(spec.start_time)
    days_back = spec.duration_seconds // 86_400 + 1
    starts = []
    for back in range(days_back + 1):
        day = local - timedelta(days=back)
        if not spec.weekdays or day.weekday() in spec.weekdays:
            starts.append(day.replace(hour=hour, minute=minute, second=0, microsecond=0))
    return starts


def _cron_fired_within(fields: list[set[int]], local: datetime, duration: timedelta) -> bool:
    minute = local.replace(second=0, microsecond=0)
    earliest = local - duration
    while minute > earliest:
        if _matches(fields, minute):
            return True
        minute -= MINUTE
    return False


def _matches(fields: list[set[int]], at: datetime) -> bool:
    minutes, hours, days, months, weekdays = fields
    cron_weekday = (at.weekday() + 1) % 7  # cron: 0 = Sunday
    return (
        at.minute in minutes
        and at.hour in hours
        and at.month in months
        and at.day in days
        and (cron_weekday in weekdays or (cron_weekday == 0 and 7 in weekdays))
    )


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
