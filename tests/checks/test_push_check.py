"""Push monitors: a missing heartbeat is a failed check, an on-time one is no news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from phoenix_contracts.checks import CheckJob
from phoenix_contracts.monitors import MonitorSpec
from phoenix_executor.checks.push import judge_heartbeat

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def job(last_beat_seconds_ago: float | None) -> CheckJob:
    spec = MonitorSpec(name="cron", type="push", interval=60, grace=30, push_token="t" * 32)
    return CheckJob(
        job_id="m:default:1",
        monitor_id="m",
        organization_id="o",
        region="default",
        due_at=NOW,
        deadline=NOW + timedelta(seconds=60),
        spec=spec,
        last_beat_at=None
        if last_beat_seconds_ago is None
        else NOW - timedelta(seconds=last_beat_seconds_ago),
    )


@pytest.mark.parametrize(
    ("ago", "outcome"),
    [(10, "skipped"), (89, "skipped"), (90, "skipped"), (91, "down"), (3600, "down")],
)
def test_a_beat_older_than_interval_plus_grace_is_a_failure(ago: float, outcome: str) -> None:
    assert judge_heartbeat(job(ago), NOW).outcome == outcome


def test_the_failure_says_how_long_it_has_been_silent() -> None:
    result = judge_heartbeat(job(125), NOW)
    assert result.error_class == "no_heartbeat"
    assert "125 s" in result.message


def test_without_any_known_beat_the_grace_runs_from_one_interval_before_the_slot() -> None:
    assert judge_heartbeat(job(None), NOW).outcome == "skipped"
    assert judge_heartbeat(job(None), NOW + timedelta(seconds=31)).outcome == "down"
