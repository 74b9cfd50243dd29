"""Wiring of the evaluator: follow the log for state, judge results as they come.

Results are split into partitions by monitor (``RESULT_PARTITIONS``); evaluator
replicas share the partitions through leases, so each monitor's results are
judged in order by one replica while several replicas run side by side.
"""

from __future__ import annotations

import contextlib
import socket
from functools import partial

from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.incidents import INCIDENT, INCIDENT_VERBS, IncidentCommand
from phoenix_contracts.subjects import RESULT_PARTITIONS
from phoenix_platform import metrics
from phoenix_platform.follower import MemoryFollower
from phoenix_platform.ids import uuid7
from phoenix_platform.leases import PartitionLeases, lease_bucket
from phoenix_platform.logging import configure
from phoenix_platform.messaging.partitioned import PartitionedConsumer
from phoenix_platform.messaging.requests import responder
from phoenix_platform.runtime import Runtime, load_settings_or_exit, run

from phoenix_evaluator.handlers import EvaluatorDeps, handle_incident_command, handle_result
from phoenix_evaluator.settings import EvaluatorSettings
from phoenix_evaluator.state import EvaluatorState

SERVICE = "evaluator"


async def serve(settings: EvaluatorSettings) -> None:
    runtime = Runtime(SERVICE, settings)
    await runtime.connect()
    state = EvaluatorState()
    follower = MemoryFollower(
        runtime.js,
        runtime.subjects,
        state.apply,
        name=SERVICE,
        stall_after=settings.projection_stall_seconds,
    )
    deps = EvaluatorDeps(state=state, store=runtime.event_store, follower=follower)

    async def on_result(result: CheckCompleted) -> None:
        # Judging before the state is rebuilt would judge against nothing.
        await follower.wait_caught_up()
        await handle_result(result, deps)

    kv = await lease_bucket(
        runtime.js, runtime.subjects.stream("EVALUATOR_LEASES"), settings.lease_ttl
    )
    leases: PartitionLeases
    consumer = PartitionedConsumer(
        runtime.broker,
        subjects=runtime.subjects,
        stream=runtime.streams.results,
        durable=runtime.subjects.consumer("evaluator"),
        subject_of=runtime.subjects.results_in,
        kind=CheckCompleted,
        handler=on_result,
        holds=lambda partition: leases.holds(partition),
        max_deliver=settings.max_deliver,
    )

    async def gained(partition: int) -> None:
        await consumer.start(partition)
        metrics.EVALUATOR_PARTITIONS.set(len(consumer.partitions))

    async def lost(partition: int) -> None:
        await consumer.stop(partition)
        metrics.EVALUATOR_PARTITIONS.set(len(consumer.partitions))

    leases = PartitionLeases(
        kv,
        f"{socket.gethostname()}:{uuid7()}",
        RESULT_PARTITIONS,
        settings.lease_ttl,
        on_gain=gained,
        on_loss=lost,
    )

    async def share_partitions() -> None:
        # A replica still replaying the log takes no partition: the others judge meanwhile.
        await follower.wait_caught_up()
        await _forget_unpartitioned_consumer(runtime)
        await leases.run()

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
    runtime.background("partition-leases", share_partitions)
    runtime.on_stopping(leases.release_all)  # hand partitions over at once, not after the TTL
    runtime.readiness("state", follower.is_ready)
    runtime.detail("state", follower.lag)
    await runtime.serve()


async def _forget_unpartitioned_consumer(runtime: Runtime) -> None:
    """Before partitions, one durable took every result; it would only pile up now."""
    with contextlib.suppress(Exception):
        await runtime.js.delete_consumer(
            runtime.streams.results, runtime.subjects.consumer("evaluator")
        )


def main() -> None:
    settings = load_settings_or_exit(EvaluatorSettings)
    configure(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run(lambda: serve(settings))
