"""The evaluator's per-monitor state machine (``phoenix_evaluator.judge``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phoenix_contracts.checks import CheckCompleted
from phoenix_evaluator.judge import Change, Health, Policy, RegionState
from phoenix_evaluator.judge import judge as judge_all


def Thresholds(failure: int, recovery: int) -> Policy:
    """A single-region policy with flapping out of the way: these tables test thresholds."""
    return Policy(failure=failure, recovery=recovery, flap_changes=10**6)


def judge(health: Health, result: CheckCompleted, policy: Policy) -> tuple[Health, Change | None]:
    """The status change a result causes, if any (other decisions are tested elsewhere)."""
    health, decisions = judge_all(health, result, policy, "incident-1")
    changes = [d for d in decisions if isinstance(d, Change)]
    return health, changes[0] if changes else None


T0 = datetime(2024, 1, 1, tzinfo=UTC)
OUTCOMES = {"U": "up", "D": "down", "S": "skipped"}


def result(
    outcome: str, second: int, *, message: str = "", error_class: str | None = None
) -> CheckCompleted:
    due = T0 + timedelta(seconds=second)
    return CheckCompleted(
        result_id=f"result-{second}-{outcome}",
        job_id=f"monitor-1:default:{second}",
        monitor_id="monitor-1",
        organization_id="org-1",
        region="default",
        due_at=due,
        started_at=due,
        finished_at=due + timedelta(milliseconds=120),
        outcome=outcome,  # type: ignore[arg-type]
        message=message,
        error_class=error_class,
    )


def play(
    letters: str, failure: int = 3, recovery: int = 2, health: Health | None = None
) -> tuple[Health, list[str]]:
    """Feed ``letters`` (U/D/S, one per 30-second slot) and collect 'prev->status' changes."""
    health = health or Health()
    changes: list[str] = []
    for index, letter in enumerate(letters):
        health, change = judge(
            health, result(OUTCOMES[letter], 30 * (index + 1)), Thresholds(failure, recovery)
        )
        if change is not None:
            changes.append(f"{change.previous}->{change.status}")
    return health, changes


RULES = [
    # (sequence, failure_threshold, recovery_threshold, final status, changes)
    ("U", 3, 2, "up", ["pending->up"]),
    ("UUUU", 3, 2, "up", ["pending->up"]),
    ("D", 3, 2, "pending", []),
    ("DD", 3, 2, "pending", []),
    ("DDD", 3, 2, "down", ["pending->down"]),
    ("DDDDDD", 3, 2, "down", ["pending->down"]),
    ("DDU", 3, 2, "up", ["pending->up"]),
    ("UDD", 3, 2, "up", ["pending->up"]),
    ("UDDD", 3, 2, "down", ["pending->up", "up->down"]),
    ("UDDUDD", 3, 2, "up", ["pending->up"]),
    ("UDDUDDD", 3, 2, "down", ["pending->up", "up->down"]),
    ("DDDU", 3, 2, "down", ["pending->down"]),
    ("DDDUU", 3, 2, "up", ["pending->down", "down->up"]),
    ("DDDUDU", 3, 2, "down", ["pending->down"]),
    ("DDDUDUU", 3, 2, "up", ["pending->down", "down->up"]),
    ("DDDUUUUU", 3, 2, "up", ["pending->down", "down->up"]),
    ("D", 1, 2, "down", ["pending->down"]),
    ("UD", 1, 1, "down", ["pending->up", "up->down"]),
    ("DU", 1, 1, "up", ["pending->down", "down->up"]),
    ("DDDDU", 5, 2, "up", ["pending->up"]),
    ("DDDDD", 5, 2, "down", ["pending->down"]),
    ("DDDUUUU", 3, 5, "down", ["pending->down"]),
    ("DDDUUUUU", 3, 5, "up", ["pending->down", "down->up"]),
    ("UDDDUUDDD", 3, 2, "down", ["pending->up", "up->down", "down->up", "up->down"]),
    ("SSSSS", 3, 2, "pending", []),
    ("UDDSD", 3, 2, "down", ["pending->up", "up->down"]),
    ("DSDSD", 3, 2, "down", ["pending->down"]),
    ("DDDUSU", 3, 2, "up", ["pending->down", "down->up"]),
    ("USSSSSSS", 3, 2, "up", ["pending->up"]),
]


@pytest.mark.parametrize(
    ("sequence", "failure", "recovery", "status", "changes"),
    RULES,
    ids=[f"{r[0]}-fail{r[1]}-recover{r[2]}-is-{r[3]}" for r in RULES],
)
def test_it_follows_the_status_rules(
    sequence: str, failure: int, recovery: int, status: str, changes: list[str]
) -> None:
    health, seen = play(sequence, failure, recovery)
    assert health.status == status
    assert seen == changes


def test_it_goes_down_only_after_three_consecutive_failures() -> None:
    health, changes = play("UDD")
    assert (health.status, health.regions.get("default", RegionState()).failures, changes) == (
        "up",
        2,
        ["pending->up"],
    )
    health, change = judge(health, result("down", 1000), Thresholds(3, 2))
    assert change is not None
    assert (change.status, change.previous, change.reason) == ("down", "up", "down")
    assert change.opens_incident
    assert health.status == "down"


def test_a_success_resets_the_failure_streak_and_a_failure_resets_the_success_streak() -> None:
    health, _ = play("UDDU")
    assert (
        health.regions.get("default", RegionState()).failures,
        health.regions.get("default", RegionState()).successes,
    ) == (0, 1)
    health, _ = play("DDDUD")
    assert (
        health.status,
        health.regions.get("default", RegionState()).failures,
        health.regions.get("default", RegionState()).successes,
    ) == ("down", 1, 0)


@pytest.mark.parametrize(
    ("message", "error_class", "reason"),
    [
        ("HTTP 503", "status", "status: HTTP 503"),
        ("the request timed out", "timeout", "timeout: the request timed out"),
        ("", "connect", "connect: down"),
        ("", None, "down"),
        ("HTTP 500", None, "HTTP 500"),
    ],
    ids=["status-code", "timeout", "class-without-message", "bare-outcome", "message-only"],
)
def test_the_change_reason_names_the_error_class_and_message(
    message: str, error_class: str | None, reason: str
) -> None:
    _, change = judge(
        Health(), result("down", 30, message=message, error_class=error_class), Thresholds(1, 1)
    )
    assert change is not None
    assert change.reason == reason


def test_a_skipped_result_changes_nothing_at_all() -> None:
    before, _ = play("UDD")
    after, change = judge(before, result("skipped", 10_000), Thresholds(3, 2))
    assert change is None
    assert after == before


def test_a_skipped_result_does_not_advance_the_last_applied_due_time() -> None:
    health, _ = judge(Health(), result("up", 10), Thresholds(1, 1))
    health, _ = judge(health, result("skipped", 20), Thresholds(1, 1))
    assert health.regions.get("default", RegionState()).last_due_at == T0 + timedelta(seconds=10)
    health, change = judge(health, result("down", 15), Thresholds(1, 1))
    assert change is not None
    assert change.status == "down"


STALE = [
    ("same-slot-redelivered", "up", 10, "down", 10),
    ("same-slot-other-outcome", "up", 10, "down", 10),
    ("older-slot", "up", 10, "down", 5),
    ("much-older-slot", "down", 100, "up", 1),
    ("older-skipped", "up", 10, "skipped", 5),
]


@pytest.mark.parametrize(
    ("first", "first_at", "late", "late_at"),
    [row[1:] for row in STALE],
    ids=[row[0] for row in STALE],
)
def test_a_result_not_newer_than_the_last_applied_one_is_ignored(
    first: str, first_at: int, late: str, late_at: int
) -> None:
    thresholds = Thresholds(failure=1, recovery=1)  # any applied result would move the state
    before, change = judge(Health(), result(first, first_at), thresholds)
    assert change is not None
    after, change = judge(before, result(late, late_at), thresholds)
    assert change is None
    assert after == before


def test_a_newer_result_after_an_ignored_stale_one_still_counts() -> None:
    thresholds = Thresholds(failure=2, recovery=1)
    health, _ = play("UD", 2, 1)  # up, one failure at second 60
    health, change = judge(health, result("down", 45), thresholds)  # stale: dropped
    assert (change, health.regions.get("default", RegionState()).failures) == (None, 1)
    health, change = judge(health, result("down", 90), thresholds)
    assert change is not None
    assert change.status == "down"


# --- properties -----------------------------------------------------------------------


def reference(letters: list[tuple[str, int]], failure: int, recovery: int) -> list[str]:
    """An independent statement of the rules: the status after each result."""
    status, last, fails, oks, out = "pending", None, 0, 0, []
    for outcome, at in letters:
        if outcome != "skipped" and (last is None or at > last):
            last = at
            if outcome == "up":
                oks, fails = oks + 1, 0
                if status == "pending" or (status == "down" and oks >= recovery):
                    status = "up"
            else:
                fails, oks = fails + 1, 0
                if status != "down" and fails >= failure:
                    status = "down"
        out.append(status)
    return out


results_strategy = st.lists(
    st.tuples(st.sampled_from(["up", "down", "skipped"]), st.integers(0, 40)), max_size=60
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(
    steps=results_strategy,
    failure=st.integers(1, 5),
    recovery=st.integers(1, 5),
    in_order=st.booleans(),
)
def test_property_the_state_machine_never_breaks_its_rules(
    steps: list[tuple[str, int]], failure: int, recovery: int, in_order: bool
) -> None:
    if in_order:  # in-order delivery, possibly with duplicated due times
        steps = sorted(steps, key=lambda step: step[1])
    thresholds = Thresholds(failure, recovery)
    health = Health()
    applied: list[str] = []  # outcomes actually applied, in order
    went_down = False
    expected = reference(steps, failure, recovery)
    for (outcome, at), want in zip(steps, expected, strict=True):
        before = health
        health, change = judge(health, result(outcome, at), thresholds)
        stale = (
            before.regions.get("default", RegionState()).last_due_at is not None
            and result(outcome, at).due_at
            <= before.regions.get("default", RegionState()).last_due_at
        )
        if outcome == "skipped" or stale:
            assert change is None
            assert health == before
        else:
            applied.append(outcome)
        if before.regions.get("default", RegionState()).last_due_at is not None:
            assert health.regions.get("default", RegionState()).last_due_at is not None
            assert (
                health.regions.get("default", RegionState()).last_due_at
                >= before.regions.get("default", RegionState()).last_due_at
            )
        if change is None:
            assert health.status == before.status
        else:
            assert change.previous == before.status
            assert change.status == health.status != before.status
            streak = len(applied) - len("".join(a[0] for a in applied).rstrip("d"))
            if change.status == "down":
                assert streak >= failure, "down on fewer than failure_threshold failures"
                went_down = True
            if change.status == "up" and change.previous == "down":
                assert went_down, "recovered without ever having been down"
                ups = len(applied) - len("".join(a[0] for a in applied).rstrip("u"))
                assert ups >= recovery
        assert health.status == want
