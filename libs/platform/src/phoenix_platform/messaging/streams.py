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


MIB = 1024 * 1024
UNLIMITED = -1  # what NATS reports for a limit not set


@dataclass(frozen=True)
class StreamLimits:
    """Byte limits: no tenant, and no bug, may fill the NATS server's disk."""

    # NATS reserves max_bytes on its disk for each stream it makes: these defaults
    # hold hours of work at 10,000 monitors without reserving a laptop's disk.
    work_max_bytes: int = 256 * MIB  # CHECKS and NOTIFY, each
    results_max_bytes: int = 1024 * MIB
    dead_letters_max_bytes: int = 256 * MIB
    max_message_bytes: int = 512 * 1024  # any one event, job or result


def stream_configs(
    subjects: Subjects,
    *,
    results_max_age_days: float = 7,
    replicas: int = 1,
    limits: StreamLimits = StreamLimits(),  # frozen: one shared default is safe
) -> list[StreamConfig]:
    streams = Streams(subjects)

    def config(
        name: str,
        subject: str,
        retention: RetentionPolicy,
        max_age: float,
        window: float,
        *,
        max_bytes: int = UNLIMITED,
        max_msg_size: int = limits.max_message_bytes,
        discard: DiscardPolicy = DiscardPolicy.OLD,
    ) -> StreamConfig:
        return StreamConfig(
            name=name,
            subjects=[subject],
            retention=retention,
            max_age=max_age,
            max_bytes=max_bytes,
            max_msg_size=max_msg_size,
            duplicate_window=window,
            storage=StorageType.FILE,
            num_replicas=replicas,
            discard=discard,
        )

    return [
        # The source of truth: never expires, so no byte limit either (it would
        # drop history); one event is bounded. A 2-minute duplicate window lets
        # a publisher retry an append with the same event id safely.
        config(streams.events, subjects.all_events, RetentionPolicy.LIMITS, 0, 120.0),
        # Due checks, each taken by one executor. A job older than an hour is
        # useless, so the stream drops it rather than growing. When full it
        # refuses new jobs: the scheduler logs the refusal, nothing queued is lost.
        config(
            streams.checks,
            subjects.all_check_jobs,
            RetentionPolicy.WORK_QUEUE,
            3600.0,
            120.0,
            max_bytes=limits.work_max_bytes,
            discard=DiscardPolicy.NEW,
        ),
        config(
            streams.results,
            subjects.all_results,
            RetentionPolicy.LIMITS,
            results_max_age_days * DAY,
            120.0,
            max_bytes=limits.results_max_bytes,
        ),
        # Notification jobs: a long window, since a job republished after a
        # crash must still be recognised as the same delivery. Full: refuse new
        # ones (the publisher retries) rather than silently drop queued alerts.
        config(
            streams.notify,
            subjects.all_notify_jobs,
            RetentionPolicy.WORK_QUEUE,
            7 * DAY,
            600.0,
            max_bytes=limits.work_max_bytes,
            discard=DiscardPolicy.NEW,
        ),
        # A dead letter wraps one message and its error: room for both.
        config(
            streams.dead_letters,
            subjects.all_dead_letters,
            RetentionPolicy.LIMITS,
            30 * DAY,
            120.0,
            max_bytes=limits.dead_letters_max_bytes,
            max_msg_size=2 * limits.max_message_bytes,
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
        or _limit(current.max_bytes) != _limit(wanted.max_bytes)
        or _limit(current.max_msg_size) != _limit(wanted.max_msg_size)
        or (current.discard or DiscardPolicy.OLD) != (wanted.discard or DiscardPolicy.OLD)
    )


def _limit(value: int | None) -> int:
    return UNLIMITED if value is None or value <= 0 else value


async def stream_names(js: JetStreamContext) -> list[str]:
    """Every stream on the server. One listing stops at a page (256 streams), and a
    shared server may hold more: a clean-up that read one page would leave streams
    behind, with their byte limits still reserved on the server's disk."""
    names: list[str] = []
    while True:
        page = await js.streams_info(offset=len(names))
        if not page:
            return names
        names += [info.config.name or "" for info in page]
