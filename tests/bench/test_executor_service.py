"""The executor-service benchmark runs the real executor process against the farm."""

from __future__ import annotations

from pathlib import Path

import pytest
from phoenix_bench.executor_service import jobs_for, measure
from phoenix_bench.farm import scheme_of

from tests.infra import Servers


def test_jobs_go_to_targets_of_the_asked_scheme_one_target_each() -> None:
    ports = [9000 + n for n in range(8)]
    jobs = jobs_for(20, "https", ports)
    assert len({job.spec.url for job in jobs}) == 20
    assert all(job.spec.url.startswith("https://") for job in jobs)
    assert all(job.deadline > job.due_at for job in jobs)
    assert scheme_of(1) == "https"


@pytest.mark.integration
def test_every_job_is_checked_and_the_executor_cpu_is_counted(
    servers: Servers, tmp_path: Path
) -> None:
    run = measure(servers.nats_url, tmp_path, 300, "http", 20)
    assert run.outcomes == {"up": 300}
    assert run.cpu_seconds > 0
    assert run.jobs_per_cpu_second == pytest.approx(300 / run.cpu_seconds, rel=0.01)
