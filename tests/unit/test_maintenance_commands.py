"""The maintenance-window aggregate, and what maintenance does to a monitor's verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.maintenance import (
    ActivateMaintenanceWindow,
    CreateMaintenanceWindow,
    DeactivateMaintenanceWindow,
    MaintenanceCommand,
    MaintenanceSpec,
    MaintenanceWindowActivated,
)
from phoenix_evaluator.judge import Change, Health, Policy, enter_maintenance, judge
from phoenix_gateway.config.maintenance import Context, WindowState, decide, evolve

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def run(*commands: MaintenanceCommand) -> tuple[WindowState, list[Event] | Rejected]:
    state, decision = WindowState(), []  # type: ignore[var-annotated]
    for n, command in enumerate(commands):
        decision = decide(state, command, Context("w1", f"e{n}", NOW))
        for event in decision if isinstance(decision, list) else []:
            state = evolve(state, event)
    return state, decision


def test_a_manual_window_starts_inactive_and_a_scheduled_one_enabled() -> None:
    manual, _ = run(CreateMaintenanceWindow(organization_id="o", spec=MaintenanceSpec(title="m")))
    cron, _ = run(
        CreateMaintenanceWindow(
            organization_id="o",
            spec=MaintenanceSpec(title="c", strategy="cron", cron="0 3 * * *"),
        )
    )
    assert (manual.active, cron.active) == (False, True)


def test_activating_twice_records_one_activation() -> None:
    create = CreateMaintenanceWindow(organization_id="o", spec=MaintenanceSpec(title="m"))
    activate = ActivateMaintenanceWindow(organization_id="o", window_id="w1")
    state, decision = run(create, activate)
    assert state.active
    assert isinstance(decision, list)
    assert isinstance(decision[0], MaintenanceWindowActivated)
    _, again = run(create, activate, activate)
    assert again == []


def test_another_organizations_window_cannot_be_touched() -> None:
    create = CreateMaintenanceWindow(organization_id="o", spec=MaintenanceSpec(title="m"))
    _, decision = run(create, DeactivateMaintenanceWindow(organization_id="other", window_id="w1"))
    assert isinstance(decision, Rejected)
    assert decision.code == "not_found"


def test_a_bad_schedule_is_refused_naming_the_field() -> None:
    bad = MaintenanceSpec(title="m", strategy="cron", cron="every sunday")
    _, decision = run(CreateMaintenanceWindow(organization_id="o", spec=bad))
    assert isinstance(decision, Rejected)
    assert decision.field == "cron"


FAR_EAST, FAR_WEST = timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))


@pytest.mark.parametrize(
    ("start_at", "end_at", "field"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), NOW, "start_at"),
        (datetime(1, 1, 1, tzinfo=FAR_EAST), NOW, "start_at"),  # before year 1 in UTC
        (NOW, datetime(9999, 12, 31, 23, 59, tzinfo=FAR_WEST), "end_at"),  # year 10000 in UTC
        (NOW, datetime(2100, 1, 2, tzinfo=UTC), "end_at"),
        (datetime(1999, 12, 31, tzinfo=UTC), NOW, "start_at"),
    ],
)
def test_a_window_beyond_the_bounded_moments_is_refused_naming_the_field(
    start_at: datetime, end_at: datetime, field: str
) -> None:
    # A command sent straight over NATS meets the same bound as one sent over HTTP.
    spec = MaintenanceSpec(title="m", strategy="single", start_at=start_at, end_at=end_at)
    _, decision = run(CreateMaintenanceWindow(organization_id="o", spec=spec))
    assert isinstance(decision, Rejected)
    assert (decision.code, decision.field) == ("invalid", field)


def test_a_window_moment_without_an_offset_is_stored_in_utc() -> None:
    naive = datetime(2030, 5, 1, 12)
    spec = MaintenanceSpec(title="m", strategy="single", start_at=naive, end_at=naive + DAY)
    _, decision = run(CreateMaintenanceWindow(organization_id="o", spec=spec))
    assert isinstance(decision, list)
    stored = decision[0].spec  # type: ignore[attr-defined]
    assert (stored.start_at, stored.end_at) == (
        naive.replace(tzinfo=UTC),
        (naive + DAY).replace(tzinfo=UTC),
    )


def test_creating_past_the_organizations_window_quota_is_refused_naming_the_limit() -> None:
    create = CreateMaintenanceWindow(organization_id="o", spec=MaintenanceSpec(title="m"))

    def with_quota(limit: int, count: int) -> list[Event] | Rejected:
        ctx = Context("w1", "e1", NOW, max_windows=limit, window_count=count)
        return decide(WindowState(), create, ctx)

    rejected = with_quota(100, 100)
    assert isinstance(rejected, Rejected)
    assert rejected.code == "quota"
    assert "limit of 100 maintenance windows" in rejected.message
    assert "PHOENIX_MAX_MAINTENANCE_WINDOWS" in rejected.message
    assert isinstance(with_quota(100, 99), list)
    assert isinstance(with_quota(0, 10**6), list)  # 0: no limit


def result(outcome: str, second: int) -> CheckCompleted:
    due = NOW + timedelta(seconds=second)
    return CheckCompleted(
        result_id=f"r{second}",
        job_id="j",
        monitor_id="m",
        organization_id="o",
        region="eu",
        due_at=due,
        started_at=due,
        finished_at=due,
        outcome=outcome,  # type: ignore[arg-type]
    )


def test_maintenance_resolves_an_open_incident_and_a_later_success_is_no_recovery() -> None:
    policy = Policy(failure=1, recovery=1)
    health, _ = judge(Health(), result("down", 0), policy, "i1")
    assert health.incident_id == "i1"
    health, decisions = enter_maintenance(health, result("down", 30))
    (change,) = decisions
    assert isinstance(change, Change)
    assert (change.status, change.previous, change.resolves_incident) == (
        "maintenance",
        "down",
        True,
    )
    health, decisions = enter_maintenance(health, result("down", 60))
    assert decisions == []  # inside the window nothing counts
    health, decisions = judge(health, result("up", 90), policy, "i2")
    (after,) = [d for d in decisions if isinstance(d, Change)]
    assert (after.previous, after.status) == ("maintenance", "up")
    assert not after.resolves_incident
