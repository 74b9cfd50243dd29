"""Wiring of the scheduler: follow the log, hold the lease, publish due check jobs."""

from __future__ import annotations

import contextlib
import socket

import msgspec
from nats.aio.msg import Msg
from phoenix_contracts.checks import CheckCompleted
from phoenix_platform import metrics
from phoenix_platform.follower import MemoryFollower
from phoenix_platform.ids import uuid7
from phoenix_platform.logging import configure
from phoenix_platform.runtime import Runtime, load_settings_or_exit, run

from phoenix_scheduler.lease import Lease, lease_bucket
from phoenix_scheduler.scheduler import Scheduler, job_publisher
from phoenix_scheduler.settings import SchedulerSettings

SERVICE = "scheduler"
_results = msgspec.json.Decoder(CheckCompleted)


async def serve(settings: SchedulerSettings) -> None:
    runtime = Runtime(SERVICE, settings)
    await runtime.connect()
    js = runtime.js

    publish = job_publisher(js, runtime.subjects, settings.max_message_kb * 1024)
    leading = {"now": False}
    scheduler = Scheduler(publish, is_leader=lambda: leading["now"])
    # Counted when scraped, so it is never stale (a sum over the roster, every 15 s or so).
    metrics.SCHEDULER_MONITORS.set_function(scheduler.scheduled)

    def on_lease(held: bool) -> None:
        leading["now"] = held
        metrics.SCHEDULER_LEADER.set(1 if held else 0)

    kv = await lease_bucket(js, runtime.subjects.stream("SCHEDULER_LEASE"), settings.lease_ttl)
    lease = Lease(kv, f"{socket.gethostname()}:{uuid7()}", settings.lease_ttl, on_change=on_lease)
    follower = MemoryFollower(
        js,
        runtime.subjects,
        scheduler.apply,
        name=SERVICE,
        stall_after=settings.projection_stall_seconds,
    )

    async def on_hint(msg: Msg) -> None:
        # The evaluator's consumer parks bad results; here results are only hints.
        with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
            scheduler.on_result(_results.decode(msg.data))

    async def schedule() -> None:
        await follower.wait_caught_up()
        scheduler.go_live()
        # Only failed checks and heartbeats, not every result: it used to read all
        # 333/s at 10,000 monitors and ignore nearly every one.
        await runtime.broker.connection.subscribe(runtime.subjects.all_hints, cb=on_hint)
        await scheduler.run()

    runtime.background("log-follower", follower.run)
    runtime.background("lease", lease.run)
    runtime.background("timing-loop", schedule)
    runtime.readiness("schedule", follower.is_ready)
    runtime.detail("schedule", follower.lag)
    runtime.on_stopping(lease.release)  # hand over at once instead of after the TTL
    await runtime.serve()


def main() -> None:
    settings = load_settings_or_exit(SchedulerSettings)
    configure(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run(lambda: serve(settings))
