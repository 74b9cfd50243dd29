"""Push (heartbeat) monitors: the check is whether a beat came in time.

Beats arrive at the gateway and are results of their own; this only turns a
missing beat into a failed check. Nothing goes over the network.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from phoenix_contracts.checks import CheckJob

from phoenix_executor.checks.base import Outcome


def judge_heartbeat(job: CheckJob, now: datetime) -> Outcome:
    spec = job.spec
    last = job.last_beat_at or job.due_at - timedelta(seconds=spec.interval)
    deadline = last + timedelta(seconds=spec.interval + spec.grace)
    if now <= deadline:
        return Outcome(outcome="skipped", message="heartbeat on time")
    silent = int((now - last).total_seconds())
    return Outcome(
        outcome="down",
        error_class="no_heartbeat",
        message=(
            f"no heartbeat for {silent} s (expected every {spec.interval} s + {spec.grace} s grace)"
        ),
    )
