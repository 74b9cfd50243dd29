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

    def config(
        name: str, subject: str, retention: RetentionPolicy, max_age: float, window: float
    ) -> StreamConfig:
        return StreamConfig(
            name=name,
            subjects=[subject],
            retention=retention,
            max_age=max_age,
            duplicate_window=window,
            storage=StorageType.FILE,
            num_replicas=replicas,
            discard=DiscardPolicy.OLD,
        )

    return [
        # The source of truth: never expires. A 2-minute duplicate window lets
        # a publisher retry an append with the same event id safely.
        config(streams.events, subjects.all_events, RetentionPolicy.LIMITS, 0, 120.0),
        # Due checks, each taken by one executor. A job older than an hour is
        # useless, so the stream drops it rather than growing.
        config(streams.checks, subjects.all_check_jobs, RetentionPolicy.WORK_QUEUE, 3600.0, 120.0),
        config(
            streams.results,
            subjects.all_results,
            RetentionPolicy.LIMITS,
            results_max_age_days * DAY,
            120.0,
        ),
        # Notification jobs: a long window, since a job republished after a
        # crash must still be recognised as the same delivery.
        config(
            streams.notify, subjects.all_notify_jobs, RetentionPolicy.WORK_QUEUE, 7 * DAY, 600.0
        ),
        config(
            streams.dead_letters, subjects.all_dead_letters, RetentionPolicy.LIMITS, 30 * DAY, 120.0
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
        # Scaling a stream to more servers (or back) is an update NATS performs live.
        or (current.num_replicas or 1) != (wanted.num_replicas or 1)
    )
