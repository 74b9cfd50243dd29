"""What maintenance windows cost the evaluator per check result (run by hand, not collected).

    uv run python -m tests.bench.maintenance_cost

Builds the evaluator's state with N cron windows that never fire (``0 0 31 2 *``,
7 days long, covering every monitor of the organization) and asks, for one
monitor checked every second, whether it is in maintenance. Prints the mean
cost per result for each N; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from phoenix_contracts.maintenance import MaintenanceSpec, MaintenanceWindowCreated
from phoenix_evaluator.state import EvaluatorState

START = datetime(2026, 3, 23, tzinfo=UTC)
NEVER = MaintenanceSpec(title="never", strategy="cron", cron="0 0 31 2 *", duration_seconds=604_800)


def state_with(windows: int) -> EvaluatorState:
    state = EvaluatorState()
    for n in range(windows):
        created = MaintenanceWindowCreated(
            event_id=f"e{n}",
            aggregate_id=f"w{n}",
            aggregate_version=1,
            occurred_at=START,
            organization_id="org",
            spec=NEVER,
        )
        state.apply(created, n + 1)
    return state


def cost_per_result(windows: int, budget: float = 2.0) -> tuple[float, int]:
    """Mean seconds per result over ``budget`` seconds of results one second apart."""
    state = state_with(windows)
    results, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < budget or results < 3:
        state.in_maintenance("m", "org", START + timedelta(seconds=results))
        results += 1
    return elapsed / results, results


def main() -> None:
    for windows in (1, 150):
        mean, results = cost_per_result(windows)
        per_result = f"{mean * 1e6:10.1f} µs/result"
        print(f"{windows:>4} never-firing cron windows: {per_result} ({results} results)")


if __name__ == "__main__":
    main()
