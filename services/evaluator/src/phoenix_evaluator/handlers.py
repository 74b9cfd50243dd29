"""Judging one check result and appending the status change it causes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.health import HEALTH, MonitorStatusChanged
from phoenix_platform.follower import MemoryFollower
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.eventstore import ConcurrencyConflict, EventStore

from phoenix_evaluator.judge import judge
from phoenix_evaluator.state import EvaluatorState

log = get_logger(__name__)


class NotYetKnown(Exception):
    """A result for a monitor whose creation we have not read yet: retry shortly."""


@dataclass(frozen=True)
class EvaluatorDeps:
    state: EvaluatorState
    store: EventStore
    follower: MemoryFollower


async def handle_result(result: CheckCompleted, deps: EvaluatorDeps) -> None:
    watched = deps.state.monitors.get(result.monitor_id)
    if watched is None:
        if result.monitor_id in deps.state.deleted:
            return
        raise NotYetKnown(result.monitor_id)
    if watched.paused:
        return
    health, change = judge(watched.health, result, watched.thresholds)
    if change is None:
        deps.state.monitors[result.monitor_id] = replace(watched, health=health)
        return
    event = MonitorStatusChanged(
        event_id=uuid7(),
        aggregate_id=result.monitor_id,
        aggregate_version=watched.health_version + 1,
        occurred_at=datetime.now(UTC),
        organization_id=watched.organization_id,
        correlation_id=result.job_id,
        causation_id=result.result_id,
        monitor_id=result.monitor_id,
        status=change.status,
        previous=change.previous,
        reason=change.reason,
        result_id=result.result_id,
        checked_at=result.finished_at,
    )
    try:
        sequence = await deps.store.append([event], watched.health_sequence)
    except ConcurrencyConflict:
        # Someone else judged this monitor: catch up with the log, then retry.
        await deps.follower.wait_for(await deps.store.last_sequence(HEALTH, result.monitor_id))
        raise
    deps.state.monitors[result.monitor_id] = replace(
        watched, health=health, health_sequence=sequence, health_version=event.aggregate_version
    )
    log.info(
        "monitor.status_changed",
        monitor_id=result.monitor_id,
        status=change.status,
        previous=change.previous,
        reason=change.reason,
    )
