"""What one whole-stack benchmark run records, before any figure is computed.

The run (``phoenix_bench.stack``) fills a :class:`Recording`; the analysis
(``phoenix_bench.analysis``) turns it into figures without any I/O, so the
figures can be recomputed from a saved recording (``recording.json``).
Times are seconds since the epoch (UTC), as floats.
"""

from __future__ import annotations

import msgspec


class MonitorPlan(msgspec.Struct, frozen=True):
    monitor_id: str
    target: int  # the farm's target number: its URL path is /t/<target>
    url: str
    interval: float


class Result(msgspec.Struct, frozen=True):
    """One check result as stored on the RESULTS stream."""

    monitor_id: str
    job_id: str
    due: float
    started: float
    finished: float
    outcome: str  # up, down, skipped
    stored: float  # the stream's timestamp of the message


class StatusChange(msgspec.Struct, frozen=True):
    """One ``health.status_changed`` event as stored on the EVENTS stream."""

    monitor_id: str
    status: str
    previous: str
    checked: float  # finished time of the result that decided it
    stored: float  # the stream's timestamp of the event
    # Decided while the monitor flapped: recorded, not alerted (one flapping notice
    # stands for such changes, and the bench's webhook rules do not ask for it).
    flapping: bool = False


class Notification(msgspec.Struct, frozen=True):
    """One webhook the local sink received."""

    monitor_id: str
    event: str  # down, recovered, …
    received: float
    occurred: float  # the status change's occurred_at, from the payload


class ProcessSample(msgspec.Struct, frozen=True):
    service: str
    pid: int
    cpu_seconds: float  # user + system, cumulative
    rss_bytes: int


class FollowerSample(msgspec.Struct, frozen=True):
    service: str
    follower: str
    applied: int
    newest: int


class Sample(msgspec.Struct, frozen=True):
    """What the sampler saw at one moment (about once a second)."""

    at: float
    processes: list[ProcessSample]
    followers: list[FollowerSample]
    # Jobs the executors dropped as stale so far (their metric; stale jobs leave no result)
    stale_jobs: int = 0


class Storage(msgspec.Struct, frozen=True):
    results_rows: int
    results_table_bytes: int  # check_results partitions, indexes included
    stream_messages: int
    stream_bytes: int  # the RESULTS stream


class Fault(msgspec.Struct, frozen=True):
    """A target that answered 500 (``error``) or hung (``hang``) from ``start`` to ``end``."""

    target: int
    kind: str
    start: float
    end: float


class RampStep(msgspec.Struct, frozen=True):
    """One step of a ramp: ``monitors`` in all, offered ``monitors / interval`` checks/s."""

    monitors: int
    offered: float  # checks/s the schedule asks for
    achieved: float  # checks/s started in the step's window
    lateness_p50: float  # seconds
    lateness_p99: float
    window_start: float
    window_end: float
    settle_seconds: float | None = 0.0  # as Recording's


class Recording(msgspec.Struct):
    started: float  # monitors all created, warm-up begins
    window_start: float  # warm-up over: figures count from here
    window_end: float
    monitors: list[MonitorPlan]
    failure_threshold: int
    results: list[Result] = msgspec.field(default_factory=list)
    status_changes: list[StatusChange] = msgspec.field(default_factory=list)
    notifications: list[Notification] = msgspec.field(default_factory=list)
    samples: list[Sample] = msgspec.field(default_factory=list)
    target_hits: dict[int, int] = msgspec.field(default_factory=dict)  # requests per target
    # When each request reached the farm, per target (epoch seconds).
    target_hit_times: dict[int, list[float]] = msgspec.field(default_factory=dict)
    timeout: float = 10.0  # the monitors' check timeout, seconds
    faults: list[Fault] = msgspec.field(default_factory=list)
    storage: Storage | None = None
    # Engine vs. ceiling and naive baseline, checks/s by scheme (phoenix_bench.executor).
    comparison: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)
    machine: dict[str, str] = msgspec.field(default_factory=dict)
    namespace: str = ""  # the run's own subjects, streams and buckets on NATS
    ramp: list[RampStep] = msgspec.field(default_factory=list)  # --ramp only
    # Waited after the warm-up until the job backlog drained (see run.settle);
    # None: it did not drain within --settle seconds, so the window holds a backlog.
    settle_seconds: float | None = 0.0
