"""Slot arithmetic of the scheduler (``phoenix_scheduler.timing``)."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phoenix_scheduler.timing import catch_up, next_slot, phase_of

NOW = 1_700_000_010.0  # a realistic epoch time (2023-11-14), a multiple of 30 and 60

monitor_ids = st.uuids().map(str)
intervals = st.integers(min_value=1, max_value=86_400)
# Up to 2036: just past 2**31 seconds (2038-01-19) slots hit a known rounding bug, see below.
epochs = st.floats(min_value=1.5e9, max_value=2.1e9, allow_nan=False, allow_infinity=False)


def on_grid(slot: float, interval: float, phase: float) -> bool:
    k = (slot - phase) / interval
    return abs(k - round(k)) < 1e-6


# --- phase_of -------------------------------------------------------------------------


def test_the_phase_of_a_monitor_is_deterministic() -> None:
    monitor_id = "0190a4d2-7a53-7c1e-9f2b-3c4d5e6f7a8b"
    assert phase_of(monitor_id, 30) == phase_of(monitor_id, 30)
    assert phase_of(monitor_id, 30) == phase_of(str(uuid.UUID(monitor_id)), 30)


def test_different_monitors_get_different_phases() -> None:
    phases = {phase_of(f"monitor-{i}", 60) for i in range(100)}
    assert len(phases) > 90


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(monitor_id=monitor_ids, interval=intervals)
def test_the_phase_lies_within_one_interval_at_millisecond_resolution(
    monitor_id: str, interval: int
) -> None:
    phase = phase_of(monitor_id, interval)
    assert 0 <= phase < interval
    assert abs(phase * 1000 - round(phase * 1000)) < 1e-6


def test_ten_thousand_monitors_spread_roughly_evenly_over_a_30_second_interval() -> None:
    rng = random.Random(20240101)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(10_000)]
    buckets = Counter(int(phase_of(monitor_id, 30)) for monitor_id in ids)
    mean = 10_000 / 30
    assert set(buckets) == set(range(30)), "every second of the interval gets monitors"
    assert max(buckets.values()) <= 3 * mean
    assert min(buckets.values()) >= mean / 3


# --- next_slot ------------------------------------------------------------------------


NEXT_SLOT = [
    ("before-the-phase", 100.0, 30, 7.0, 127.0),
    ("just-before-a-slot", 126.999, 30, 7.0, 127.0),
    ("exactly-on-a-slot-moves-on", 127.0, 30, 7.0, 157.0),
    ("just-after-a-slot", 127.001, 30, 7.0, 157.0),
    ("zero-phase", 60.0, 60, 0.0, 120.0),
    ("fractional-phase", 1000.0, 60, 12.345, 1032.345),
    ("epoch-scale", NOW, 30, 1.5, NOW + 1.5),
]


@pytest.mark.parametrize(
    ("after", "interval", "phase", "expected"),
    [row[1:] for row in NEXT_SLOT],
    ids=[row[0] for row in NEXT_SLOT],
)
def test_next_slot_is_the_first_slot_strictly_after(
    after: float, interval: int, phase: float, expected: float
) -> None:
    assert next_slot(after, interval, phase) == pytest.approx(expected, abs=1e-6)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(after=epochs, interval=intervals, monitor_id=monitor_ids)
def test_next_slot_is_strictly_later_aligned_and_no_more_than_one_interval_away(
    after: float, interval: int, monitor_id: str
) -> None:
    phase = phase_of(monitor_id, interval)
    slot = next_slot(after, interval, phase)
    assert slot > after
    assert slot - interval <= after
    assert on_grid(slot, interval, phase)
    assert next_slot(slot, interval, phase) > slot, "a slot is never its own successor"


@pytest.mark.parametrize(
    ("interval", "start"),
    [(1, NOW), (30, NOW), (60, NOW), (300, NOW), (3600, NOW), (86_400, 1.2e9)],
    ids=["1s", "30s", "1min", "5min", "1h", "1day"],
)
def test_next_slot_does_not_drift_over_ten_thousand_iterations(interval: int, start: float) -> None:
    phase = phase_of("monitor-drift", interval)
    first = next_slot(start, interval, phase)
    slot = first
    for _ in range(10_000):
        following = next_slot(slot, interval, phase)
        assert following > slot
        slot = following
    assert slot == pytest.approx(first + 10_000 * interval, abs=1e-6)
    assert on_grid(slot, interval, phase)


@pytest.mark.parametrize(
    ("slot", "interval", "phase"),
    [
        pytest.param(3 * 0.7, 0.7, 0.0, id="fractional-interval"),
        pytest.param(71_582_788 * 30 + 16.436, 30, 16.436, id="first-slots-after-2038-01-19"),
        pytest.param(56_666_667 * 30 + 16.436, 30, 16.436, id="today"),
    ],
)
def test_a_slot_is_never_its_own_successor(slot: float, interval: float, phase: float) -> None:
    assert next_slot(slot, interval, phase) > slot


# --- catch_up -------------------------------------------------------------------------


CATCH_UP = [
    # (id, due offset, served at offset, expected next offset) relative to a slot at NOW+phase
    ("served-on-time", 0.0, 0.0, 30.0),
    ("served-a-little-late", 0.0, 12.5, 30.0),
    ("served-just-before-the-next-slot", 0.0, 29.999, 30.0),
    ("served-exactly-at-the-next-slot-skips-it", 0.0, 30.0, 60.0),
    ("stalled-ten-intervals-skips-them-all", 0.0, 305.0, 330.0),
    ("stalled-an-hour", 0.0, 3600.0 + 1.0, 3630.0),
]


@pytest.mark.parametrize(
    ("due", "now", "expected"),
    [row[1:] for row in CATCH_UP],
    ids=[row[0] for row in CATCH_UP],
)
def test_catch_up_skips_missed_slots_instead_of_replaying_them(
    due: float, now: float, expected: float
) -> None:
    phase = 7.25
    base = next_slot(NOW, 30, phase)
    assert catch_up(base + due, base + now, 30, phase) == pytest.approx(base + expected, abs=1e-6)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(
    interval=intervals,
    monitor_id=monitor_ids,
    start=epochs,
    lateness=st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_catch_up_always_returns_a_future_slot_on_the_grid(
    interval: int, monitor_id: str, start: float, lateness: float
) -> None:
    phase = phase_of(monitor_id, interval)
    due = next_slot(start, interval, phase)
    now = due + lateness
    following = catch_up(due, now, interval, phase)
    assert following > now
    assert following - interval <= now or following == pytest.approx(due + interval)
    assert on_grid(following, interval, phase)
