from __future__ import annotations

import time
from dataclasses import dataclass, field

from phoenix_contracts.checks import CheckOutcome, Timings


@dataclass(frozen=True)
class Outcome:
    outcome: CheckOutcome
    message: str
    status_code: int | None = None
    error_class: str | None = None
    timings: Timings = field(default_factory=Timings)

    @classmethod
    def down(cls, error_class: str, message: str, started: float) -> Outcome:
        total = (time.perf_counter() - started) * 1000
        return cls(
            outcome="down",
            error_class=error_class,
            message=message[:500],
            timings=Timings(total_ms=round(total, 2)),
        )
