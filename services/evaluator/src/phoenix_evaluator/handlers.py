"""Judging one check result and appending what it decides."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from phoenix_contracts.base import Accepted, Envelope, Event, Rejected
from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.health import (
    HEALTH,
    CertificateExpiring,
    MonitorFlappingChanged,
    MonitorStatusChanged,
)
from phoenix_contracts.incidents import IncidentCommand, IncidentOpened, IncidentResolved
from phoenix_platform import metrics
from phoenix_platform.commands import execute
from phoenix_platform.follower import MemoryFollower
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.eventstore import ConcurrencyConflict, EventStore

from phoenix_evaluator import incidents
from phoenix_evaluator.incidents import INCIDENTS, IncidentState
from phoenix_evaluator.judge import Change, Decision, FlappingChanged, enter_maintenance, judge
from phoenix_evaluator.state import EvaluatorState, Watched

log = get_logger(__name__)


class NotYetKnown(Exception):
    """A result for a monitor whose creation we have not read yet: retry shortly."""


@dataclass(frozen=True)
class EvaluatorDeps:
    state: EvaluatorState
    store: EventStore
    follower: MemoryFollower


def incident_id_for(result: CheckCompleted) -> str:
    """Derived from the result, so a retry after a crash names the same incident."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"phoenix:incident:{result.result_id}"))


async def handle_result(result: CheckCompleted, deps: EvaluatorDeps) -> None:
    watched = deps.state.monitors.get(result.monitor_id)
    if watched is None:
        if result.monitor_id in deps.state.deleted:
            return
        raise NotYetKnown(result.monitor_id)
    if watched.paused:
        return
    if deps.state.in_maintenance(result.monitor_id, watched.organization_id, result.finished_at):
        health, decisions = enter_maintenance(watched.health, result)
    else:
        health, decisions = judge(watched.health, result, watched.policy, incident_id_for(result))
    changes = [d for d in decisions if isinstance(d, Change)]
    for change in changes:
        # Incidents first: if we crash before the status change is stored, the
        # redelivered result decides the same change and finds its incident.
        await record_incident(deps.store, watched, change, result)
    events = health_events(watched, result, decisions)
    sequence, version = watched.health_sequence, watched.health_version
    if events:
        try:
            sequence = await deps.store.append(events, watched.health_sequence)
        except ConcurrencyConflict:
            # Someone else judged this monitor: catch up with the log, then retry.
            await deps.follower.wait_for(await deps.store.last_sequence(HEALTH, result.monitor_id))
            raise
        version = events[-1].aggregate_version
    deps.state.monitors[result.monitor_id] = replace(
        watched, health=health, health_sequence=sequence, health_version=version
    )
    metrics.RESULTS_JUDGED.inc()
    stored = datetime.now(UTC)
    for change in changes:
        metrics.STATUS_CHANGES.labels(change.status).inc()
        metrics.RESULT_TO_STATUS.observe((stored - result.finished_at).total_seconds())
        log.info(
            "monitor.status_changed",
            monitor_id=result.monitor_id,
            status=change.status,
            previous=change.previous,
            reason=change.reason,
        )


def health_events(
    watched: Watched, result: CheckCompleted, decisions: list[Decision]
) -> list[Event]:
    events: list[Event] = []
    now = datetime.now(UTC)
    for decision in decisions:
        envelope = Envelope(
            event_id=uuid7(),
            aggregate_id=result.monitor_id,
            aggregate_version=watched.health_version + len(events) + 1,
            occurred_at=now,
            organization_id=watched.organization_id,
            correlation_id=result.job_id,
        )
        match decision:
            case Change():
                events.append(
                    MonitorStatusChanged(
                        **envelope,
                        monitor_id=result.monitor_id,
                        causation_id=result.result_id,
                        status=decision.status,
                        previous=decision.previous,
                        reason=decision.reason,
                        result_id=result.result_id,
                        checked_at=result.finished_at,
                        region=decision.region,
                        flapping=decision.flapping,
                        incident_id=decision.incident_id,
                    )
                )
            case FlappingChanged():
                events.append(
                    MonitorFlappingChanged(
                        **envelope,
                        monitor_id=result.monitor_id,
                        causation_id=result.result_id,
                        flapping=decision.flapping,
                        changes_in_window=decision.changes,
                        window_seconds=int(watched.policy.flap_window.total_seconds()),
                    )
                )
            case _:
                events.append(
                    CertificateExpiring(
                        **envelope,
                        monitor_id=result.monitor_id,
                        causation_id=result.result_id,
                        expires_at=decision.expires_at,
                        days_left=decision.days_left,
                        threshold_days=decision.threshold,
                        issuer=decision.issuer,
                    )
                )
    return events


async def record_incident(
    store: EventStore, watched: Watched, change: Change, result: CheckCompleted
) -> None:
    """Open or resolve the incident of a status change.

    Idempotent: the event ids derive from the incident id, and the incident is
    loaded first, so a retry after a crash, or a recovery after someone
    resolved the incident by hand, appends nothing.
    """
    incident_id = change.incident_id
    if incident_id is None or not (change.opens_incident or change.resolves_incident):
        return

    def decide(state: IncidentState) -> list[Event] | Rejected:
        envelope = Envelope(
            event_id=f"{incident_id}:{'opened' if change.opens_incident else 'resolved'}",
            aggregate_id=incident_id,
            aggregate_version=state.version + 1,
            occurred_at=result.finished_at,
            organization_id=watched.organization_id,
            correlation_id=result.job_id,
        )
        if change.opens_incident:
            if state.status != "none":
                return []
            return [
                IncidentOpened(
                    **envelope,
                    monitor_id=result.monitor_id,
                    title=f"{watched.spec.name} is down",
                    cause=change.reason,
                    started_at=result.finished_at,
                )
            ]
        if not state.is_open:
            return []  # resolved already (by hand, or by our own earlier attempt)
        started = change.incident_started_at or state.started_at or result.finished_at
        return [
            IncidentResolved(
                **envelope,
                monitor_id=result.monitor_id,
                resolved_at=result.finished_at,
                duration_seconds=(result.finished_at - started).total_seconds(),
            )
        ]

    reply = await execute(store, INCIDENTS, incident_id, decide)
    if isinstance(reply, Rejected):
        raise ConcurrencyConflict(reply.message)  # retried by the work consumer


async def handle_incident_command(cmd: IncidentCommand, store: EventStore) -> Accepted | Rejected:
    """A person acknowledges, updates or resolves an incident (``<ns>.cmd.incident.<verb>``)."""
    ctx = incidents.Context(aggregate_id=cmd.incident_id, event_id=uuid7(), now=datetime.now(UTC))
    return await execute(store, INCIDENTS, cmd.incident_id, lambda s: incidents.decide(s, cmd, ctx))
