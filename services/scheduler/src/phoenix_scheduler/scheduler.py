"""The timing loop: a heap of due times, one job per monitor and region per slot."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from nats.js import JetStreamContext
from phoenix_contracts.base import Event
from phoenix_contracts.checks import CheckCompleted, CheckJob
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.monitors import (
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorUpdated,
)
from phoenix_contracts.subjects import Subjects
from phoenix_platform import metrics
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.codec import encode

from phoenix_scheduler import roster
from phoenix_scheduler.timing import catch_up, next_slot, phase_of

log = get_logger(__name__)

Publish = Callable[[CheckJob], Awaitable[None]]
LIFECYCLE = (MonitorCreated, MonitorUpdated, MonitorPaused, MonitorResumed, MonitorDeleted)


class JobTooLarge(Exception):
    """A job over the size bound: never published, so no monitor floods the CHECKS stream."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"check job of {size} bytes exceeds {limit}")
        self.size = size
        self.limit = limit


def job_publisher(js: JetStreamContext, subjects: Subjects, max_bytes: int) -> Publish:
    """Publish a job to its region's subject, unless its encoding exceeds ``max_bytes``."""

    async def publish(job: CheckJob) -> None:
        data = encode(job)
        if len(data) > max_bytes:
            raise JobTooLarge(len(data), max_bytes)
        # The job id is deterministic (monitor, region, slot): a job published
        # twice inside the duplicate window is stored once.
        await js.publish(subjects.check_job(job.region), data, headers={"Nats-Msg-Id": job.job_id})

    return publish


class Scheduler:
    """Keeps every active monitor's next due time; publishes jobs while it leads.

    Heap entries are ``(due, monitor_id, generation, retry)``: a change to a
    monitor bumps its generation, so entries from before are skipped; a retry
    entry (an extra check while a failure is unconfirmed) fires once and does
    not start a chain of its own.
    """

    def __init__(
        self,
        publish: Publish,
        clock: Callable[[], float] = time.time,
        is_leader: Callable[[], bool] = lambda: True,
        tick: float = 0.02,
    ) -> None:
        self._publish = publish
        self._clock = clock
        self._is_leader = is_leader
        # After firing, wait at least this long, so the jobs falling due meanwhile go
        # out together (one socket write, one read of their acks) instead of one by
        # one every few milliseconds. It adds at most ``tick`` to a job's lateness.
        self._tick = tick
        self.monitors: dict[str, roster.Scheduled] = {}
        # Push monitors: newest heartbeat (epoch s). Unknown after a restart, so
        # the baseline is when we went live: a missing beat is still caught,
        # one interval + grace later, and a restart causes no false alarm.
        self._beats: dict[str, float] = {}
        self._live_since = 0.0
        self._heap: list[tuple[float, str, int, bool]] = []
        self._wake = asyncio.Event()
        self._live = False  # False while replaying the log at start

    # --- fed by the log follower --------------------------------------------
    def apply(self, event: Event, sequence: int) -> None:
        monitor_id = event.aggregate_id
        if isinstance(event, MonitorStatusChanged):
            if (known := self.monitors.get(monitor_id)) is not None:
                self.monitors[monitor_id] = roster.evolve(known, event) or known
            return
        if not isinstance(event, LIFECYCLE):
            return
        updated = roster.evolve(self.monitors.get(monitor_id), event)
        if updated is None:
            self.monitors.pop(monitor_id, None)
            return
        self.monitors[monitor_id] = updated
        if self._live and updated.active:
            # A new or resumed monitor is checked at once; a changed one at its next slot.
            # A push monitor has nothing to check yet: its grace starts now.
            now = self._clock()
            immediate = isinstance(event, MonitorCreated | MonitorResumed)
            if updated.push and immediate:
                self._beats[monitor_id] = now
                immediate = False
            self._push(updated, now if immediate else self._next(updated, now))

    def go_live(self) -> None:
        """Replay is done: schedule everyone at their next slot (missed ones are skipped)."""
        now = self._clock()
        for monitor in self.monitors.values():
            if monitor.active:
                self._push(monitor, self._next(monitor, now))
        self._live = True
        self._live_since = now
        log.info("scheduler.live", monitors=len(self.monitors))

    def on_result(self, result: CheckCompleted) -> None:
        """A failed check of a monitor not yet down: check again sooner, once."""
        monitor = self.monitors.get(result.monitor_id)
        if monitor is not None and monitor.push and ":push:" in result.job_id:
            self._beats[monitor.monitor_id] = result.finished_at.timestamp()
            return
        if not self._live or monitor is None or not monitor.active or result.outcome != "down":
            return
        retry = monitor.spec.retry_interval
        if retry is None or monitor.status == "down":
            return
        at = self._clock() + retry
        if at < self._next(monitor, self._clock()):
            heapq.heappush(self._heap, (at, monitor.monitor_id, monitor.generation, True))
            self._wake.set()

    # --- the loop -------------------------------------------------------------
    async def run(self) -> None:
        while True:
            now = self._clock()
            due = self._pop_due(now)
            if due:
                await asyncio.gather(*(self._fire(m, at, now, retry) for m, at, retry in due))
                if self._tick:
                    await asyncio.sleep(self._tick)
                continue
            delay = self._heap[0][0] - now if self._heap else 1.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, min(delay, 1.0)))

    def _pop_due(self, now: float) -> list[tuple[roster.Scheduled, float, bool]]:
        due = []
        while self._heap and self._heap[0][0] <= now:
            at, monitor_id, generation, retry = heapq.heappop(self._heap)
            monitor = self.monitors.get(monitor_id)
            if monitor and monitor.generation == generation and monitor.active:
                due.append((monitor, at, retry))
        return due

    async def _fire(self, monitor: roster.Scheduled, due: float, now: float, retry: bool) -> None:
        spec = monitor.spec
        if not retry:
            phase = phase_of(monitor.monitor_id, spec.interval)
            self._push(monitor, catch_up(due, now, spec.interval, phase))
        if not self._is_leader():
            return  # followers keep time so they can take over, but publish nothing
        due_at = datetime.fromtimestamp(due, UTC)
        deadline = datetime.fromtimestamp(due + spec.interval, UTC)
        for region in spec.regions:
            job = CheckJob(
                job_id=f"{monitor.monitor_id}:{region}:{int(due * 1000)}",
                monitor_id=monitor.monitor_id,
                organization_id=monitor.organization_id,
                region=region,
                due_at=due_at,
                deadline=deadline,
                spec=spec,
                last_beat_at=self._last_beat(monitor),
            )
            try:
                await self._publish(job)
            except JobTooLarge as exc:
                # Every region's job carries the same spec: all are too large.
                log.warning(
                    "scheduler.job_too_large",
                    monitor_id=monitor.monitor_id,
                    organization_id=monitor.organization_id,
                    size=exc.size,
                    limit=exc.limit,
                )
                metrics.SCHEDULER_JOBS_REFUSED.inc(len(spec.regions))
                return
            except Exception as exc:  # a lost job is a missed check, not a crash
                log.warning(
                    "scheduler.publish_failed", monitor_id=monitor.monitor_id, error=str(exc)
                )
                continue
            # Published means stored in the stream: lateness counts the publish round trip.
            metrics.SCHEDULER_JOBS.inc()
            metrics.SCHEDULER_LATENESS.observe(self._clock() - due)

    def scheduled(self) -> int:
        """Monitors on the schedule: known and not paused."""
        return sum(1 for monitor in self.monitors.values() if monitor.active)

    def _last_beat(self, monitor: roster.Scheduled) -> datetime | None:
        if not monitor.push:
            return None
        return datetime.fromtimestamp(self._beats.get(monitor.monitor_id, self._live_since), UTC)

    def _push(self, monitor: roster.Scheduled, at: float) -> None:
        heapq.heappush(self._heap, (at, monitor.monitor_id, monitor.generation, False))
        self._wake.set()

    @staticmethod
    def _next(monitor: roster.Scheduled, now: float) -> float:
        interval = monitor.spec.interval
        return next_slot(now, interval, phase_of(monitor.monitor_id, interval))
