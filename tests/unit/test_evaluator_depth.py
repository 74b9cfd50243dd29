"""Regions and quorum, degraded, flapping, incidents and certificate warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from phoenix_contracts.checks import CheckCompleted, Timings
from phoenix_evaluator.judge import (
    CertificateWarning,
    Change,
    Decision,
    FlappingChanged,
    Health,
    Policy,
    judge,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def result(
    outcome: str,
    second: int,
    *,
    region: str = "eu",
    total_ms: float = 100.0,
    cert_expires_at: datetime | None = None,
) -> CheckCompleted:
    due = T0 + timedelta(seconds=second)
    return CheckCompleted(
        result_id=f"r-{region}-{second}",
        job_id=f"m:{region}:{second}",
        monitor_id="m",
        organization_id="o",
        region=region,
        due_at=due,
        started_at=due,
        finished_at=due + timedelta(milliseconds=total_ms),
        outcome=outcome,  # type: ignore[arg-type]
        timings=Timings(total_ms=total_ms),
        message=f"HTTP {200 if outcome == 'up' else 500}",
        cert_expires_at=cert_expires_at,
        cert_issuer="Test CA" if cert_expires_at else None,
    )


def feed(
    policy: Policy, results: list[CheckCompleted], health: Health | None = None
) -> tuple[Health, list[Decision]]:
    health = health or Health()
    decisions: list[Decision] = []
    for item in results:
        health, made = judge(health, item, policy, f"incident-{item.result_id}")
        decisions.extend(made)
    return health, decisions


def statuses(decisions: list[Decision]) -> list[str]:
    return [d.status for d in decisions if isinstance(d, Change)]


def test_with_a_quorum_of_two_one_failing_region_does_not_take_the_monitor_down() -> None:
    policy = Policy(failure=2, recovery=1, quorum=2)
    health, decisions = feed(
        policy,
        [
            result("up", 0, region="eu"),
            result("up", 0, region="us"),
            result("down", 30, region="eu"),
            result("up", 30, region="us"),
            result("down", 60, region="eu"),
            result("up", 60, region="us"),
        ],
    )
    assert health.status == "up"
    assert statuses(decisions) == ["up"]


def test_with_a_quorum_of_two_the_monitor_goes_down_when_two_regions_agree() -> None:
    policy = Policy(failure=2, recovery=1, quorum=2)
    _, decisions = feed(
        policy,
        [
            result("up", 0, region="eu"),
            result("up", 0, region="us"),
            result("down", 30, region="eu"),
            result("down", 30, region="us"),
            result("down", 60, region="eu"),
            result("down", 60, region="us"),
        ],
    )
    assert statuses(decisions) == ["up", "down"]


def test_results_of_two_regions_for_the_same_slot_both_count() -> None:
    policy = Policy(failure=1, recovery=1, quorum=2)
    health, decisions = feed(
        policy, [result("down", 30, region="eu"), result("down", 30, region="us")]
    )
    assert statuses(decisions) == ["down"]
    assert health.regions["eu"].verdict == health.regions["us"].verdict == "down"


def test_a_slow_success_is_degraded_and_a_fast_one_is_up_again() -> None:
    policy = Policy(degraded_after_ms=500)
    _, decisions = feed(
        policy,
        [
            result("up", 0, total_ms=100),
            result("up", 30, total_ms=900),
            result("up", 60, total_ms=120),
        ],
    )
    assert statuses(decisions) == ["up", "degraded", "up"]


def test_a_recovery_is_never_announced_without_a_preceding_down() -> None:
    policy = Policy(failure=3, recovery=1, degraded_after_ms=500)
    _, decisions = feed(policy, [result("up", 0), result("up", 30, total_ms=800), result("up", 60)])
    changes = [d for d in decisions if isinstance(d, Change)]
    assert all(c.previous != "down" for c in changes)
    assert not any(c.resolves_incident for c in changes)


def test_a_down_opens_an_incident_and_the_recovery_resolves_the_same_one() -> None:
    policy = Policy(failure=1, recovery=1)
    health, decisions = feed(policy, [result("up", 0), result("down", 30), result("up", 60)])
    down, recovered = [d for d in decisions if isinstance(d, Change)][1:]
    assert down.opens_incident
    assert down.incident_id == "incident-r-eu-30"
    assert recovered.resolves_incident
    assert recovered.incident_id == down.incident_id
    assert recovered.incident_started_at == result("down", 30).finished_at
    assert health.incident_id is None


def test_a_monitor_that_keeps_changing_is_reported_flapping_once() -> None:
    policy = Policy(failure=1, recovery=1, flap_changes=4, flap_window=timedelta(minutes=10))
    pattern = ["up", "down"] * 5
    health, decisions = feed(policy, [result(o, 30 * i) for i, o in enumerate(pattern)])
    flaps = [d for d in decisions if isinstance(d, FlappingChanged)]
    assert flaps == [FlappingChanged(flapping=True, changes=4)]
    changes = [d for d in decisions if isinstance(d, Change)]
    assert [c.flapping for c in changes] == [False, False, False] + [True] * 7
    assert health.flapping


def test_flapping_ends_after_a_quiet_window() -> None:
    policy = Policy(failure=1, recovery=1, flap_changes=3, flap_window=timedelta(minutes=5))
    health, _ = feed(
        policy, [result(o, 30 * i) for i, o in enumerate(["up", "down", "up", "down"])]
    )
    assert health.flapping
    health, decisions = feed(policy, [result("down", 30 * 4 + 400)], health)
    assert decisions == [FlappingChanged(flapping=False, changes=0)]


@pytest.mark.parametrize(
    ("days_left", "warned_at"),
    [(45, None), (30, 30), (20, 30), (14, 14), (10, 14), (5, 7), (1, 1), (0, 1)],
)
def test_a_certificate_warning_names_the_tightest_threshold_crossed(
    days_left: int, warned_at: int | None
) -> None:
    expires = T0 + timedelta(days=days_left, hours=1)
    _, decisions = feed(Policy(), [result("up", 0, cert_expires_at=expires)])
    warnings = [d for d in decisions if isinstance(d, CertificateWarning)]
    assert [w.threshold for w in warnings] == ([] if warned_at is None else [warned_at])


def test_each_threshold_warns_once_per_certificate() -> None:
    expires = T0 + timedelta(days=31)
    checks = [result("up", day * 86_400, cert_expires_at=expires) for day in range(0, 32)]
    _, decisions = feed(Policy(), checks)
    warnings = [d.threshold for d in decisions if isinstance(d, CertificateWarning)]
    assert warnings == [30, 14, 7, 1]


def test_a_renewed_certificate_starts_its_warnings_afresh() -> None:
    old = T0 + timedelta(days=5)
    new = T0 + timedelta(days=6)
    _, decisions = feed(
        Policy(),
        [
            result("up", 0, cert_expires_at=old),
            result("up", 30, cert_expires_at=old),
            result("up", 60, cert_expires_at=new),
        ],
    )
    assert [d.threshold for d in decisions if isinstance(d, CertificateWarning)] == [7, 7]
