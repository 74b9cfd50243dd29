"""Wiring of the scheduler: follow monitor events, publish due check jobs."""

from __future__ import annotations

from phoenix_contracts.checks import CheckJob
from phoenix_contracts.monitors import MONITOR
from phoenix_platform.follower import MemoryFollower
from phoenix_platform.logging import configure
from phoenix_platform.messaging.codec import encode
from phoenix_platform.runtime import Runtime, load_settings_or_exit, run

from phoenix_scheduler.scheduler import Scheduler
from phoenix_scheduler.settings import SchedulerSettings

SERVICE = "scheduler"


async def serve(settings: SchedulerSettings) -> None:
    runtime = Runtime(SERVICE, settings)
    await runtime.connect()
    js = runtime.js

    async def publish(job: CheckJob) -> None:
        # The job id is deterministic (monitor, region, slot): a job published
        # twice inside the duplicate window is stored once.
        await js.publish(
            runtime.subjects.check_job(job.region), encode(job), headers={"Nats-Msg-Id": job.job_id}
        )

    scheduler = Scheduler(publish)
    follower = MemoryFollower(
        js, runtime.subjects, scheduler.apply, subject=runtime.subjects.events_of(MONITOR)
    )

    async def schedule() -> None:
        await follower.wait_caught_up()
        scheduler.go_live()
        await scheduler.run()

    runtime.background("monitor-follower", follower.run)
    runtime.background("timing-loop", schedule)
    runtime.readiness("schedule", follower.is_caught_up)
    await runtime.serve()


def main() -> None:
    settings = load_settings_or_exit(SchedulerSettings)
    configure(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run(lambda: serve(settings))
