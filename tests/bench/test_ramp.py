"""Which step of a ramp is reported: the last one that kept lateness p99 within 1 s."""

from __future__ import annotations

from phoenix_bench.record import RampStep
from phoenix_bench.run import sustained_step


def step(monitors: int, p99: float) -> RampStep:
    return RampStep(monitors, monitors / 30, monitors / 30, 0.01, p99, float(monitors), 1.0e9)


def test_the_last_step_within_a_second_is_the_sustained_one() -> None:
    steps = [step(2000, 0.02), step(4000, 0.3), step(6000, 0.9), step(8000, 16.0)]
    assert sustained_step(steps).monitors == 6000


def test_when_no_step_kept_up_the_first_is_reported() -> None:
    assert sustained_step([step(2000, 2.0), step(4000, 9.0)]).monitors == 2000
