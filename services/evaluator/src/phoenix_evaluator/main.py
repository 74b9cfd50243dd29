"""Wiring of the evaluator: follow the log for state, judge results as they come."""

from __future__ import annotations

from functools import partial

from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.incidents import INCIDENT, INCIDENT_VERBS, IncidentCommand
from phoenix_platform.follower import MemoryFollower
from phoenix_platform.logging import configure
from phoenix_platform.messaging.requests import responder
from phoenix_platform.messaging.work import work_consumer
from phoenix_platform.runtime import Runtime, load_settings_or_exit, run

from phoenix_evaluator.handlers import EvaluatorDeps, handle_incident_command, handle_result
from phoenix_evaluator.settings import EvaluatorSettings
from phoenix_evaluator.state import EvaluatorState

SERVICE = "evaluator"


async def serve(settings: EvaluatorSettings) -> None:
    runtime = Runtime(SERVICE, settings)
    await runtime.connect()
    state = EvaluatorState()
    follower = MemoryFollower(runtime.js, runtime.subjects, state.apply)
    deps = EvaluatorDeps(state=state, store=runtime.event_store, follower=follower)

    async def on_result(result: CheckCompleted) -> None:
        # Judging before the state is rebuilt would judge against nothing.
        await follower.wait_caught_up()
        await handle_result(result, deps)

    work_consumer(
        runtime.broker,
        subjects=runtime.subjects,
        subject=runtime.subjects.all_results,
        stream=runtime.streams.results,
        durable=runtime.subjects.consumer("evaluator"),
        kind=CheckCompleted,
        handler=on_result,
        max_deliver=settings.max_deliver,
        batch_size=64,
    )
    for verb in INCIDENT_VERBS:
        # People's commands on incidents: the evaluator is the incident aggregate's one writer.
        responder(
            runtime.broker,
            runtime.subjects.command(INCIDENT, verb),
            queue="evaluator",
            kind=IncidentCommand,
            handler=partial(handle_incident_command, store=runtime.event_store),
        )
    runtime.background("state-follower", follower.run)
    runtime.readiness("state", follower.is_caught_up)
    runtime.detail("state", follower.lag)
    await runtime.serve()


def main() -> None:
    settings = load_settings_or_exit(EvaluatorSettings)
    configure(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run(lambda: serve(settings))
