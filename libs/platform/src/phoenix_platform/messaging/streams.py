"""The JetStream streams, provisioned idempotently at start.

Any service may call :func:`provision`: creating a stream that exists with the
same configuration is a no-op, and a changed configuration is updated in place
(JetStream rejects changes that would lose data, such as the retention policy,
and we surface that error rather than delete anything).
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from phoenix_contracts.subjects import Subjects

DAY = 24 * 3600.0


@dataclass(frozen=True)
class Streams:
    subjects: Subjects

    @property
    def events(self) -> str:
        return self.subjects.stream("EVENTS")

    @property
    def checks(self) -> str:
        return self.subjects.stream("CHECKS")

    @property
    def results(self) -> str:
        return self.subjects.stream("RESULTS")

    @property
    def notify(self) -> str:
        return self.subjects.stream("NOTIFY")

    @property
    def dead_letters(self) -> str:
        return self.subjects.stream("DLQ")


def stream_configs(
    subjects: Subjects, *, results_max_age_days: float = 7, replicas: int = 1
) -> list[StreamConfig]:
    streams = Streams(subjects)
    common = {"storage": StorageType.FILE, "num_replicas": replicas}
    return [
        # The source of truth: never expires. A 2-minute duplicate window lets
        # a publisher retry an append with the same event id safely.
        StreamConfig(
            name=streams.events,
            subjects=[subjects.all_events],
            retention=RetentionPolicy.LIMITS,
            duplicate_window=120.0,
            **common,
        ),
        # Due checks: each is taken by one executor. A job older than an hour
        # is useless, so the stream drops it rather than growing.
        StreamConfig(
            name=streams.checks,
            subjects=[subjects.all_check_jobs],
            retention=RetentionPolicy.WORK_QUEUE,
            max_age=3600.0,
            duplicate_window=120.0,
            **common,
        ),
        StreamConfig(
            name=streams.results,
            subjects=[subjects.all_results],
            retention=RetentionPolicy.LIMITS,
            max_age=results_max_age_days * DAY,
            duplicate_window=120.0,
            **common,
        ),
        StreamConfig(
            name=streams.notify,
            subjects=[subjects.all_notify_jobs],
            retention=RetentionPolicy.WORK_QUEUE,
            max_age=7 * DAY,
            duplicate_window=600.0,
            **common,
        ),
        StreamConfig(
            name=streams.dead_letters,
            subjects=[subjects.all_dead_letters],
            retention=RetentionPolicy.LIMITS,
            max_age=30 * DAY,
            discard=DiscardPolicy.OLD,
            **common,
        ),
    ]


async def provision(js: JetStreamContext, configs: list[StreamConfig]) -> None:
    for config in configs:
        assert config.name is not None
        try:
            info = await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
            continue
        if _differs(info.config, config):
            await js.update_stream(config)


def _differs(current: StreamConfig, wanted: StreamConfig) -> bool:
    return (
        sorted(current.subjects or []) != sorted(wanted.subjects or [])
        or (current.max_age or 0) != (wanted.max_age or 0)
        or (current.duplicate_window or 0) != (wanted.duplicate_window or 0)
    )
