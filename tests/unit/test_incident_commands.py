"""The incident aggregate (``phoenix_evaluator.incidents``) and what a manual resolve
does to the evaluator's memory of the monitor's open incident."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.incidents import (
    AcknowledgeIncident,
    AddIncidentUpdate,
    IncidentAcknowledged,
    IncidentCommand,
    IncidentOpened,
    IncidentResolved,
    IncidentUpdateAdded,
    ResolveIncident,
)
from phoenix_contracts.monitors import MonitorCreated, MonitorSpec
from phoenix_evaluator.incidents import INCIDENTS, Context, IncidentState, decide, evolve
from phoenix_evaluator.judge import Health
from phoenix_evaluator.state import EvaluatorState

STARTED = datetime(2026, 1, 1, tzinfo=UTC)
NOW = STARTED + timedelta(minutes=5)
ORG = "org-1"
INC = "inc-1"


def opened() -> IncidentOpened:
    return IncidentOpened(
        event_id="e0",
        aggregate_id=INC,
        aggregate_version=1,
        occurred_at=STARTED,
        organization_id=ORG,
        monitor_id="mon-1",
        title="shop is down",
        cause="HTTP 500",
        started_at=STARTED,
    )


def ack(org: str = ORG) -> AcknowledgeIncident:
    return AcknowledgeIncident(organization_id=org, incident_id=INC, user_id="u1", note="on it")


def resolve(org: str = ORG) -> ResolveIncident:
    return ResolveIncident(organization_id=org, incident_id=INC, user_id="u1", note="fixed")


def update(org: str = ORG) -> AddIncidentUpdate:
    return AddIncidentUpdate(organization_id=org, incident_id=INC, user_id="u1", message="looking")


def run(*commands: IncidentCommand, exists: bool = True) -> tuple[IncidentState, list[object]]:
    """Apply the commands in turn; the decision of each, and the state after all."""
    state = INCIDENTS.fold([opened()]) if exists else IncidentState()
    decisions: list[object] = []
    for n, command in enumerate(commands):
        decision = decide(state, command, Context(INC, f"e{n + 1}", NOW))
        decisions.append(decision)
        for event in decision if isinstance(decision, list) else []:
            state = evolve(state, event)
    return state, decisions


def types(decision: object) -> list[type] | str:
    if isinstance(decision, Rejected):
        return decision.code
    assert isinstance(decision, list)
    return [type(e) for e in decision]


@pytest.mark.parametrize(
    ("commands", "last", "status"),
    [
        ((ack(),), [IncidentAcknowledged], "acknowledged"),
        ((ack(), ack()), [], "acknowledged"),  # acknowledged twice → one event
        ((resolve(),), [IncidentResolved], "resolved"),
        ((ack(), resolve()), [IncidentResolved], "resolved"),
        ((resolve(), resolve()), [], "resolved"),  # resolving a resolved incident: nothing
        ((resolve(), ack()), [], "resolved"),  # too late to acknowledge
        ((update(),), [IncidentUpdateAdded], "open"),
        ((ack(), update()), [IncidentUpdateAdded], "acknowledged"),
        ((resolve(), update()), "conflict", "resolved"),  # updates only while open
        ((ack("other"),), "not_found", "open"),
        ((resolve("other"),), "not_found", "open"),
        ((update("other"),), "not_found", "open"),
    ],
)
def test_decisions(
    commands: tuple[IncidentCommand, ...], last: list[type] | str, status: str
) -> None:
    state, decisions = run(*commands)
    assert types(decisions[-1]) == last
    assert state.status == status


def test_an_unknown_incident_is_not_found() -> None:
    _, decisions = run(ack(), exists=False)
    assert types(decisions[0]) == "not_found"


def test_acknowledging_twice_records_one_event_with_the_next_version() -> None:
    state, decisions = run(ack(), ack())
    first = decisions[0]
    assert isinstance(first, list)
    assert isinstance(first[0], IncidentAcknowledged)
    assert (first[0].aggregate_version, first[0].by_user_id, first[0].note) == (2, "u1", "on it")
    assert state.version == 2


def test_a_manual_resolve_records_who_why_and_how_long() -> None:
    _, decisions = run(resolve())
    event = decisions[0][0]  # type: ignore[index]
    assert isinstance(event, IncidentResolved)
    assert (event.by_user_id, event.note, event.monitor_id) == ("u1", "fixed", "mon-1")
    assert event.duration_seconds == 300.0
    assert event.resolved_at == NOW


def _resolved(incident_id: str, sequence_event_id: str = "r1") -> Event:
    return IncidentResolved(
        event_id=sequence_event_id,
        aggregate_id=incident_id,
        aggregate_version=2,
        occurred_at=NOW,
        organization_id=ORG,
        monitor_id="mon-1",
        resolved_at=NOW,
        duration_seconds=300.0,
        by_user_id="u1",
    )


def _state_with_open_incident() -> EvaluatorState:
    state = EvaluatorState()
    state.apply(
        MonitorCreated(
            event_id="m1",
            aggregate_id="mon-1",
            aggregate_version=1,
            occurred_at=STARTED,
            organization_id=ORG,
            spec=MonitorSpec(name="shop", type="http", url="https://example.com"),
        ),
        1,
    )
    watched = state.monitors["mon-1"]
    state.monitors["mon-1"] = replace(
        watched, health=Health(status="down", incident_id=INC, incident_started_at=STARTED)
    )
    return state


def test_a_resolved_incident_is_forgotten_so_the_recovery_does_not_resolve_it_again() -> None:
    state = _state_with_open_incident()
    state.apply(_resolved(INC), 10)
    health = state.monitors["mon-1"].health
    assert (health.status, health.incident_id, health.incident_started_at) == ("down", None, None)


def test_resolving_another_incident_leaves_the_open_one_alone() -> None:
    state = _state_with_open_incident()
    state.apply(_resolved("inc-older"), 10)
    assert state.monitors["mon-1"].health.incident_id == INC
