"""What a maintenance window costs the evaluator per check result, counted in work, not time.

Counted as Python calls into ``phoenix_platform.maintenance`` (the schedule
logic): a window answers each result in a few calls, and walks the calendar
only when its cached span has passed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

import phoenix_platform.maintenance
from phoenix_contracts.maintenance import (
    MaintenanceSpec,
    MaintenanceWindowCreated,
    MaintenanceWindowUpdated,
)
from phoenix_evaluator.state import EvaluatorState

T0 = datetime(2026, 3, 23, tzinfo=UTC)
# Feb 31 never comes: before the fix every result walked 7 days minute by minute.
NEVER = MaintenanceSpec(title="never", strategy="cron", cron="0 0 31 2 *", duration_seconds=604_800)


def calls_into_schedules(work: Callable[[], Any]) -> int:
    module = phoenix_platform.maintenance.__file__
    calls = 0

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call" and frame.f_code.co_filename == module:
            calls += 1

    sys.setprofile(count)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls


def window_event(n: int, spec: MaintenanceSpec, org: str = "org", updated: bool = False) -> Any:
    kind = MaintenanceWindowUpdated if updated else MaintenanceWindowCreated
    return kind(
        event_id=f"e{n}-{updated}",
        aggregate_id=f"w{n}",
        aggregate_version=2 if updated else 1,
        occurred_at=T0,
        organization_id=org,
        spec=spec,
    )


def results_for(state: EvaluatorState, monitor: str, seconds: int) -> Callable[[], list[bool]]:
    """One result a second after the first, for ``seconds`` seconds, as a 1 s monitor sends."""
    return lambda: [
        state.in_maintenance(monitor, "org", T0 + timedelta(seconds=s))
        for s in range(1, seconds + 1)
    ]


def test_a_cron_window_that_never_fires_is_searched_once_not_per_result() -> None:
    state = EvaluatorState()
    state.apply(window_event(1, NEVER), 1)
    state.in_maintenance("m", "org", T0)  # the first result searches (a year ahead, by day)
    calls = calls_into_schedules(results_for(state, "m", 120))
    assert calls <= 3 * 120, f"{calls} calls into the schedule logic for the next 120 results"


def test_each_window_covering_the_monitor_costs_a_result_constant_work() -> None:
    state = EvaluatorState()
    for n in range(150):
        state.apply(window_event(n, NEVER), n + 1)
    state.in_maintenance("m", "org", T0)
    calls = calls_into_schedules(results_for(state, "m", 4))
    assert calls <= 3 * 150 * 4, f"{calls} calls for 150 windows x the next 4 results"


def test_windows_of_other_organizations_and_monitors_cost_nothing() -> None:
    state = EvaluatorState()
    for n in range(50):
        state.apply(window_event(n, NEVER, org="other"), n + 1)
        named = MaintenanceSpec(**{**_fields(NEVER), "monitor_ids": ["someone-else"]})
        state.apply(window_event(100 + n, named), 100 + n)
    assert calls_into_schedules(results_for(state, "m", 10)) == 0


def test_a_changed_window_is_searched_again_and_answers_for_its_new_schedule() -> None:
    state = EvaluatorState()
    state.apply(window_event(1, NEVER), 1)
    assert not state.in_maintenance("m", "org", T0)
    every_minute = MaintenanceSpec(title="w", strategy="cron", cron="* * * * *")
    state.apply(window_event(1, every_minute, updated=True), 2)
    assert state.in_maintenance("m", "org", T0 + timedelta(seconds=1))


def _fields(spec: MaintenanceSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in spec.__struct_fields__}
