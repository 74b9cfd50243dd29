"""Two scheduler replicas on one NATS: one leads, nothing is scheduled twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest
from nats.aio.client import Client
from phoenix_contracts.checks import CheckJob
from phoenix_contracts.monitors import MonitorCreated, MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_scheduler.lease import Lease, lease_bucket
from phoenix_scheduler.scheduler import Scheduler

pytestmark = pytest.mark.integration
TTL = 1.5


class Replica:
    def __init__(self, name: str, lease: Lease, published: list[tuple[str, CheckJob]]) -> None:
        self.lease = lease

        async def publish(job: CheckJob) -> None:
            published.append((name, job))

        self.scheduler = Scheduler(publish, is_leader=lambda: lease.held)
        for n in range(5):
            self.scheduler.apply(
                MonitorCreated(
                    event_id=f"e{n}",
                    aggregate_id=f"m{n}",
                    aggregate_version=1,
                    occurred_at=datetime.now(UTC),
                    organization_id="o",
                    spec=MonitorSpec(
                        name=f"m{n}",
                        type="http",
                        url="https://example.com",
                        interval=1,
                        timeout=0.5,
                    ),
                ),
                n + 1,
            )
        self.scheduler.go_live()
        self.tasks = [asyncio.create_task(self.scheduler.run()), asyncio.create_task(lease.run())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def test_only_the_lease_holder_publishes_and_a_replica_takes_over(
    nc: Client, subjects: Subjects
) -> None:
    kv = await lease_bucket(nc.jetstream(), subjects.stream("SCHEDULER_LEASE"), TTL)
    published: list[tuple[str, CheckJob]] = []
    first = Replica("first", Lease(kv, "first", TTL), published)
    await asyncio.sleep(0.3)  # let the first one win the lease
    second = Replica("second", Lease(kv, "second", TTL), published)
    await asyncio.sleep(3)
    assert first.lease.held
    assert not second.lease.held
    assert {name for name, _ in published} == {"first"}

    await first.lease.release()  # a graceful stop hands over
    await first.stop()
    handed_over = len(published)
    await asyncio.sleep(3)
    await second.stop()

    assert second.lease.held
    assert {name for name, _ in published[handed_over:]} == {"second"}
    counts = Counter(job.job_id for _, job in published)
    assert max(counts.values()) == 1, "a check was scheduled twice"
    per_monitor = Counter(job.monitor_id for _, job in published)
    # ~6 s at one check per second each, minus at most the hand-over gap.
    assert all(count >= 4 for count in per_monitor.values()), per_monitor


async def test_a_leader_that_goes_silent_loses_the_lease_after_its_ttl(
    nc: Client, subjects: Subjects
) -> None:
    kv = await lease_bucket(nc.jetstream(), subjects.stream("SCHEDULER_LEASE"), TTL)
    silent = Lease(kv, "silent", TTL)
    await silent._step()  # acquires once, then never renews (a frozen or killed process)
    assert silent.held
    waiting = Lease(kv, "waiting", TTL)
    task = asyncio.create_task(waiting.run())
    await asyncio.sleep(TTL + 1.5)
    task.cancel()
    assert waiting.held
