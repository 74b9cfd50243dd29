"""The timing loop: a heap of due times, one job per monitor and region per slot."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from phoenix_contracts.base import Event
from phoenix_contracts.checks import CheckJob
from phoenix_contracts.monitors import MonitorCreated, MonitorResumed
from phoenix_platform.logging import get_logger

from phoenix_scheduler import roster
from phoenix_scheduler.timing import catch_up, next_slot, phase_of

log = get_logger(__name__)

Publish = Callable[[CheckJob], Awaitable[None]]


class Scheduler:
    def __init__(self, publish: Publish, clock: Callable[[], float] = time.time) -> None:
        self._publish = publish
        self._clock = clock
        self.monitors: dict[str, roster.Scheduled] = {}
        self._heap: list[tuple[float, str, int]] = []
        self._wake = asyncio.Event()
        self._live = False  # False while replaying the log at start

    # --- fed by the log follower --------------------------------------------
    def apply(self, event: Event, sequence: int) -> None:
        monitor_id = event.aggregate_id
        updated = roster.evolve(self.monitors.get(monitor_id), event)
        if updated is None:
            self.monitors.pop(monitor_id, None)
            return
        self.monitors[monitor_id] = updated
        if self._live and updated.active:
            # A new or resumed monitor is checked at once; a changed one at its next slot.
            now = self._clock()
            immediate = isinstance(event, MonitorCreated | MonitorResumed)
            self._push(updated, now if immediate else self._next(updated, now))

    def go_live(self) -> None:
        """Replay is done: schedule everyone at their next slot (missed ones are skipped)."""
        now = self._clock()
        for monitor in self.monitors.values():
            if monitor.active:
                self._push(monitor, self._next(monitor, now))
        self._live = True
        log.info("scheduler.live", monitors=len(self.monitors))

    # --- the loop -------------------------------------------------------------
    async def run(self) -> None:
        while True:
            now = self._clock()
            due = self._pop_due(now)
            if due:
                await asyncio.gather(*(self._fire(m, at, now) for m, at in due))
                continue
            delay = self._heap[0][0] - now if self._heap else 1.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, min(delay, 1.0)))

    def _pop_due(self, now: float) -> list[tuple[roster.Scheduled, float]]:
        due = []
        while self._heap and self._heap[0][0] <= now:
            at, monitor_id, generation = heapq.heappop(self._heap)
            monitor = self.monitors.get(monitor_id)
            if monitor and monitor.generation == generation and monitor.active:
                due.append((monitor, at))
        return due

    async def _fire(self, monitor: roster.Scheduled, due: float, now: float) -> None:
        spec = monitor.spec
        self._push(
            monitor, catch_up(due, now, spec.interval, phase_of(monitor.monitor_id, spec.interval))
        )
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
            )
            try:
                await self._publish(job)
            except Exception as exc:  # a lost job is a missed check, not a crash
                log.warning(
                    "scheduler.publish_failed", monitor_id=monitor.monitor_id, error=str(exc)
                )

    def _push(self, monitor: roster.Scheduled, at: float) -> None:
        heapq.heappush(self._heap, (at, monitor.monitor_id, monitor.generation))
        self._wake.set()

    @staticmethod
    def _next(monitor: roster.Scheduled, now: float) -> float:
        interval = monitor.spec.interval
        return next_slot(now, interval, phase_of(monitor.monitor_id, interval))
