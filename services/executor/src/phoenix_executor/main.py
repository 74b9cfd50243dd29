"""Wiring of the executor: pull due checks for this region, publish results."""

from __future__ import annotations

from phoenix_contracts.checks import CheckCompleted, CheckJob
from phoenix_platform.logging import configure
from phoenix_platform.messaging.results import publish_result
from phoenix_platform.messaging.work import WorkConsumer
from phoenix_platform.netguard import NetGuard, parse_networks
from phoenix_platform.runtime import Runtime, load_settings_or_exit, run
from phoenix_platform.settings import secrets_key_bytes

from phoenix_executor.checks.base import CheckContext
from phoenix_executor.engine import Engine
from phoenix_executor.handlers import ExecutorDeps, handle_job
from phoenix_executor.settings import ExecutorSettings

SERVICE = "executor"


async def serve(settings: ExecutorSettings) -> None:
    runtime = Runtime(SERVICE, settings)
    await runtime.connect()
    js = runtime.js

    async def publish(result: CheckCompleted) -> None:
        # A failed check is a hint: the scheduler may check again sooner (retry_interval).
        await publish_result(
            js, runtime.broker.connection, runtime.subjects, result, hint=result.outcome == "down"
        )

    guard = NetGuard(parse_networks(settings.allow_private_targets))
    checks = CheckContext(
        guard=guard, engine=Engine(guard=guard), dns_resolver=settings.dns_check_resolver
    )
    deps = ExecutorDeps(
        checks=checks, publish=publish, secrets_key=secrets_key_bytes(settings.secrets_key)
    )
    jobs = WorkConsumer(
        runtime.broker,
        subjects=runtime.subjects,
        subject=runtime.subjects.check_job(settings.region),
        stream=runtime.streams.checks,
        durable=runtime.subjects.consumer(f"executor-{settings.region}"),
        kind=CheckJob,
        handler=lambda job: handle_job(job, deps),
        max_deliver=settings.max_deliver,
        ack_wait=330.0,
        batch_size=min(settings.concurrency, 256),
        max_workers=settings.concurrency,
    )
    runtime.consume("check-jobs", jobs)  # on stop, checks in hand finish and publish results
    await runtime.serve()


def main() -> None:
    settings = load_settings_or_exit(ExecutorSettings)
    configure(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run(lambda: serve(settings))
