"""The scheduler's roster fold and timing loop, driven by a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
import pytest
from phoenix_contracts.base import Event
from phoenix_contracts.checks import CheckCompleted, CheckJob
from phoenix_contracts.health import MonitorStatusChanged
from phoenix_contracts.monitors import (
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorSpec,
    MonitorUpdated,
)
from phoenix_scheduler import roster
from phoenix_scheduler.scheduler import Scheduler
from phoenix_scheduler.timing import next_slot, phase_of
from prometheus_client import REGISTRY

T0 = 1_700_000_010.0
MONITOR = "0190a4d2-7a53-7c1e-9f2b-3c4d5e6f7a8b"
ORG = "org-1"


def spec(**changes: object) -> MonitorSpec:
    fields: dict[str, object] = {
        "name": "site",
        "type": "http",
        "url": "https://example.com/",
        "interval": 30,
        "timeout": 5.0,
    }
    fields.update(changes)
    return MonitorSpec(**fields)  # type: ignore[arg-type]


_versions: dict[str, int] = {}


def envelope(monitor_id: str = MONITOR) -> dict[str, object]:
    _versions[monitor_id] = _versions.get(monitor_id, 0) + 1
    return {
        "event_id": f"event-{monitor_id}-{_versions[monitor_id]}",
        "aggregate_id": monitor_id,
        "aggregate_version": _versions[monitor_id],
        "occurred_at": datetime(2023, 11, 14, tzinfo=UTC),
        "organization_id": ORG,
    }


def created(monitor_id: str = MONITOR, **changes: object) -> MonitorCreated:
    return MonitorCreated(spec=spec(**changes), **envelope(monitor_id))  # type: ignore[arg-type]


def updated(monitor_id: str = MONITOR, **changes: object) -> MonitorUpdated:
    return MonitorUpdated(spec=spec(**changes), **envelope(monitor_id))  # type: ignore[arg-type]


def paused(monitor_id: str = MONITOR) -> MonitorPaused:
    return MonitorPaused(**envelope(monitor_id))  # type: ignore[arg-type]


def resumed(monitor_id: str = MONITOR) -> MonitorResumed:
    return MonitorResumed(**envelope(monitor_id))  # type: ignore[arg-type]


def deleted(monitor_id: str = MONITOR) -> MonitorDeleted:
    return MonitorDeleted(**envelope(monitor_id))  # type: ignore[arg-type]


def slot_after(at: float, interval: int = 30, monitor_id: str = MONITOR) -> float:
    return next_slot(at, interval, phase_of(monitor_id, interval))


# --- roster ---------------------------------------------------------------------------


def fold(*events: Event) -> roster.Scheduled | None:
    current: roster.Scheduled | None = None
    for event in events:
        current = roster.evolve(current, event)
    return current


def test_the_roster_adds_a_created_monitor_as_active() -> None:
    scheduled = fold(created())
    assert scheduled == roster.Scheduled(MONITOR, ORG, spec())
    assert scheduled.active


@pytest.mark.parametrize(
    ("events", "active", "generation"),
    [
        pytest.param(lambda: [created(), paused()], False, 1, id="paused"),
        pytest.param(lambda: [created(), paused(), resumed()], True, 2, id="resumed"),
        pytest.param(lambda: [created(), updated(interval=60)], True, 1, id="updated"),
        pytest.param(lambda: [created(), paused(), updated()], False, 2, id="updated-while-paused"),
        pytest.param(lambda: [created(type="push", url="")], True, 0, id="push-is-scheduled"),
    ],
)
def test_a_roster_change_sets_activity_and_bumps_the_generation(
    events: object, active: bool, generation: int
) -> None:
    scheduled = fold(*events())  # type: ignore[operator]
    assert scheduled is not None
    assert (scheduled.active, scheduled.generation) == (active, generation)


def test_the_roster_forgets_a_deleted_monitor() -> None:
    assert fold(created(), paused(), deleted()) is None


def test_the_roster_ignores_changes_to_a_monitor_it_never_saw() -> None:
    assert fold(updated()) is None
    assert fold(paused()) is None
    assert fold(resumed()) is None


def test_an_update_replaces_the_spec() -> None:
    scheduled = fold(created(), updated(interval=120, regions=["eu"]))
    assert scheduled is not None
    assert (scheduled.spec.interval, scheduled.spec.regions) == (120, ["eu"])


# --- the loop -------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Harness:
    def __init__(self) -> None:
        self.clock = FakeClock(T0)
        self.jobs: list[CheckJob] = []
        self.scheduler = Scheduler(self._publish, clock=self.clock, tick=0)
        self.failures = 0

    async def _publish(self, job: CheckJob) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unavailable")
        self.jobs.append(job)

    async def settle(self) -> None:
        """Let the loop run until it waits again (no real time passes)."""
        for _ in range(50):
            await asyncio.sleep(0)

    async def apply(self, *events: Event) -> None:
        for event in events:
            self.scheduler.apply(event, 0)
        await self.settle()

    async def advance_to(self, at: float) -> None:
        self.clock.now = at
        self.scheduler._wake.set()  # the loop sleeps on real time; a fake clock must wake it
        await self.settle()

    def due_times(self) -> list[float]:
        return [job.due_at.timestamp() for job in self.jobs]


@pytest.fixture
async def loop() -> AsyncIterator[Harness]:
    harness = Harness()
    task = asyncio.create_task(harness.scheduler.run())
    await harness.settle()
    yield harness
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_nothing_fires_while_the_log_is_replayed(loop: Harness) -> None:
    await loop.apply(created())
    await loop.advance_to(T0 + 120)
    assert loop.jobs == []


async def test_after_go_live_a_replayed_monitor_fires_at_its_next_slot_not_at_once(
    loop: Harness,
) -> None:
    await loop.apply(created())
    loop.scheduler.go_live()
    slot = slot_after(T0)
    await loop.advance_to(slot - 0.001)
    assert loop.jobs == []
    await loop.advance_to(slot)
    assert loop.due_times() == [slot]


async def test_a_monitor_created_live_fires_immediately(loop: Harness) -> None:
    loop.scheduler.go_live()
    loop.clock.now = T0 + 3.25
    await loop.apply(created())
    assert loop.due_times() == [T0 + 3.25]
    job = loop.jobs[0]
    assert (job.monitor_id, job.organization_id, job.region) == (MONITOR, ORG, "default")
    assert job.spec == spec()


async def test_a_live_monitor_keeps_firing_once_per_interval(loop: Harness) -> None:
    await loop.apply(created())
    loop.scheduler.go_live()
    first = slot_after(T0)
    for k in range(5):
        await loop.advance_to(first + 30 * k)
    await loop.advance_to(first + 30 * 4 + 29)
    assert loop.due_times() == [pytest.approx(first + 30 * k, abs=1e-6) for k in range(5)]


async def test_a_paused_monitor_does_not_fire(loop: Harness) -> None:
    loop.scheduler.go_live()
    await loop.apply(created())
    assert len(loop.jobs) == 1
    await loop.apply(paused())
    for k in range(1, 6):
        await loop.advance_to(T0 + 30 * k)
    assert len(loop.jobs) == 1


async def test_a_monitor_paused_during_replay_is_not_scheduled_at_go_live(loop: Harness) -> None:
    await loop.apply(created(), paused())
    loop.scheduler.go_live()
    for k in range(1, 6):
        await loop.advance_to(T0 + 30 * k)
    assert loop.jobs == []


async def test_a_resumed_monitor_fires_immediately(loop: Harness) -> None:
    await loop.apply(created(), paused())
    loop.scheduler.go_live()
    await loop.advance_to(T0 + 100)
    await loop.apply(resumed())
    assert loop.due_times() == [T0 + 100]


async def test_a_deleted_monitor_does_not_fire(loop: Harness) -> None:
    loop.scheduler.go_live()
    await loop.apply(created())
    await loop.apply(deleted())
    for k in range(1, 6):
        await loop.advance_to(T0 + 30 * k)
    assert len(loop.jobs) == 1
    assert MONITOR not in loop.scheduler.monitors


async def test_a_push_monitor_is_not_checked_at_creation_but_at_its_slots_with_its_last_beat(
    loop: Harness,
) -> None:
    loop.scheduler.go_live()
    loop.clock.now = T0 + 1
    await loop.apply(created(type="push", url=""))
    assert loop.jobs == []  # nothing to check yet: the grace starts now
    await loop.advance_to(slot_after(T0 + 1))
    assert len(loop.jobs) == 1
    assert loop.jobs[0].last_beat_at == datetime.fromtimestamp(T0 + 1, UTC)


async def test_a_heartbeat_moves_the_last_beat_of_the_next_job(loop: Harness) -> None:
    loop.scheduler.go_live()
    await loop.apply(created(type="push", url=""))
    beat = msgspec.structs.replace(failed(T0 + 5), outcome="up", job_id=f"{MONITOR}:push:beat-1")
    loop.scheduler.on_result(beat)
    await loop.advance_to(slot_after(T0 + 5))
    assert loop.jobs[-1].last_beat_at == datetime.fromtimestamp(T0 + 5, UTC)


async def test_an_updated_interval_takes_effect_at_the_next_slot(loop: Harness) -> None:
    await loop.apply(created(interval=60))
    loop.scheduler.go_live()
    await loop.advance_to(T0 + 1)
    await loop.apply(updated(interval=30))
    assert loop.jobs == [], "a changed monitor waits for its next slot"
    first = slot_after(T0 + 1, 30)
    for k in range(4):
        await loop.advance_to(first + 30 * k)
    assert loop.due_times() == [pytest.approx(first + 30 * k, abs=1e-6) for k in range(4)]
    assert {job.spec.interval for job in loop.jobs} == {30}


async def test_an_update_does_not_leave_the_old_slot_firing(loop: Harness) -> None:
    await loop.apply(created(interval=300))
    loop.scheduler.go_live()
    await loop.apply(updated(interval=300, name="renamed"))
    old_slot = slot_after(T0, 300)
    await loop.advance_to(old_slot)
    assert len(loop.jobs) == 1, "the stale heap entry of the old generation is dropped"
    assert loop.jobs[0].spec.name == "renamed"


async def test_one_job_is_published_per_region_with_a_deterministic_id(loop: Harness) -> None:
    loop.scheduler.go_live()
    loop.clock.now = T0 + 0.5
    await loop.apply(created(regions=["eu-west", "us-east", "ap-south"]))
    due_ms = int((T0 + 0.5) * 1000)
    assert [job.job_id for job in loop.jobs] == [
        f"{MONITOR}:eu-west:{due_ms}",
        f"{MONITOR}:us-east:{due_ms}",
        f"{MONITOR}:ap-south:{due_ms}",
    ]
    assert [job.region for job in loop.jobs] == ["eu-west", "us-east", "ap-south"]
    assert len({job.due_at for job in loop.jobs}) == 1


async def test_the_same_slot_gets_the_same_job_id_on_every_scheduler(loop: Harness) -> None:
    other = Harness()
    other_task = asyncio.create_task(other.scheduler.run())
    try:
        for harness in (loop, other):
            await harness.apply(created(regions=["eu", "us"]))
            harness.scheduler.go_live()
            await harness.advance_to(slot_after(T0))
            await harness.advance_to(slot_after(T0) + 30)
        ids = [job.job_id for job in loop.jobs]
        assert len(ids) == 4
        assert ids == [job.job_id for job in other.jobs]
        for job in loop.jobs:
            due_ms = round(job.due_at.timestamp() * 1000)
            assert job.job_id == f"{MONITOR}:{job.region}:{due_ms}"
    finally:
        other_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await other_task


async def test_a_job_is_due_until_the_next_slot(loop: Harness) -> None:
    await loop.apply(created(interval=60))
    loop.scheduler.go_live()
    await loop.advance_to(slot_after(T0, 60))
    job = loop.jobs[0]
    assert (job.deadline - job.due_at).total_seconds() == 60


async def test_after_a_stall_missed_slots_are_not_replayed(loop: Harness) -> None:
    await loop.apply(created())
    loop.scheduler.go_live()
    first = slot_after(T0)
    await loop.advance_to(first)
    stalled_until = first + 30 * 10 + 5
    await loop.advance_to(stalled_until)
    assert len(loop.jobs) == 2, "one overdue job at most, never a burst of ten"
    await loop.advance_to(slot_after(stalled_until) - 0.001)
    assert len(loop.jobs) == 2
    await loop.advance_to(slot_after(stalled_until))
    assert loop.due_times()[-1] == pytest.approx(first + 30 * 11, abs=1e-6)


async def test_a_failed_publish_is_a_missed_check_not_a_dead_loop(loop: Harness) -> None:
    await loop.apply(created())
    loop.scheduler.go_live()
    first = slot_after(T0)
    loop.failures = 1
    await loop.advance_to(first)
    assert loop.jobs == []
    await loop.advance_to(first + 30)
    assert loop.due_times() == [pytest.approx(first + 30, abs=1e-6)]


async def test_many_monitors_each_fire_once_per_slot(loop: Harness) -> None:
    ids = [f"monitor-{i:03d}" for i in range(200)]
    await loop.apply(*(created(monitor_id) for monitor_id in ids))
    loop.scheduler.go_live()
    await loop.advance_to(T0 + 30)
    assert sorted(job.monitor_id for job in loop.jobs) == sorted(ids)


async def test_after_an_immediate_check_the_monitor_returns_to_its_phase_grid(
    loop: Harness,
) -> None:
    loop.scheduler.go_live()
    created_at = T0 + 3.25
    assert slot_after(created_at) - created_at != pytest.approx(30)
    loop.clock.now = created_at
    await loop.apply(created())
    await loop.advance_to(slot_after(created_at))
    assert loop.due_times()[1:] == [pytest.approx(slot_after(created_at), abs=1e-6)]


# --- retries while a failure is unconfirmed, and leadership ---------------------------


def failed(at: float, monitor_id: str = MONITOR) -> CheckCompleted:
    moment = datetime.fromtimestamp(at, UTC)
    return CheckCompleted(
        result_id=f"r-{at}",
        job_id=f"{monitor_id}:default:{int(at * 1000)}",
        monitor_id=monitor_id,
        organization_id=ORG,
        region="default",
        due_at=moment,
        started_at=moment,
        finished_at=moment,
        outcome="down",
    )


def went(status: str, monitor_id: str = MONITOR) -> MonitorStatusChanged:
    return MonitorStatusChanged(
        **envelope(monitor_id),
        monitor_id=monitor_id,
        status=status,
        previous="up",  # type: ignore[arg-type]
        reason="x",
        result_id="r",
        checked_at=datetime(2023, 11, 14, tzinfo=UTC),
    )


async def test_a_failure_brings_one_extra_check_after_the_retry_interval(loop: Harness) -> None:
    loop.scheduler.go_live()
    await loop.apply(created(retry_interval=5))
    loop.jobs.clear()
    loop.scheduler.on_result(failed(T0))
    await loop.advance_to(T0 + 5)
    assert loop.due_times() == [T0 + 5]
    await loop.advance_to(T0 + 9)
    assert len(loop.jobs) == 1  # one-shot: no chain of its own


async def test_no_extra_checks_once_the_monitor_is_confirmed_down(loop: Harness) -> None:
    loop.scheduler.go_live()
    await loop.apply(created(retry_interval=5), went("down"))
    loop.jobs.clear()
    loop.scheduler.on_result(failed(T0))
    await loop.advance_to(T0 + 6)
    assert loop.jobs == []


async def test_without_a_retry_interval_a_failure_changes_nothing(loop: Harness) -> None:
    loop.scheduler.go_live()
    await loop.apply(created())
    loop.jobs.clear()
    loop.scheduler.on_result(failed(T0))
    await loop.advance_to(T0 + 10)
    assert loop.jobs == []


async def test_a_follower_keeps_time_but_publishes_nothing() -> None:
    jobs: list[CheckJob] = []

    async def publish(job: CheckJob) -> None:
        jobs.append(job)

    clock = FakeClock(T0)
    leader = {"now": False}
    scheduler = Scheduler(publish, clock=clock, is_leader=lambda: leader["now"], tick=0)
    scheduler.go_live()
    scheduler.apply(created(), 1)
    task = asyncio.create_task(scheduler.run())
    for _ in range(20):
        await asyncio.sleep(0)
    assert jobs == []
    leader["now"] = True
    clock.now = slot_after(T0)
    scheduler._wake.set()
    for _ in range(20):
        await asyncio.sleep(0)
    task.cancel()
    assert [job.due_at.timestamp() for job in jobs] == [slot_after(T0)]


async def test_jobs_falling_due_within_a_tick_go_out_together() -> None:
    # Real time: five monitors created 10 ms apart. The first fires at once; the
    # loop then waits its 100 ms tick, and the other four go out in one round.
    sent: list[float] = []

    async def publish(job: CheckJob) -> None:
        sent.append(asyncio.get_running_loop().time())

    scheduler = Scheduler(publish, tick=0.1)
    scheduler.go_live()
    task = asyncio.create_task(scheduler.run())
    try:
        for n in range(5):
            scheduler.apply(created(f"m{n}"), n)
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
    finally:
        task.cancel()
    assert len(sent) == 5
    assert sent[1] - sent[0] >= 0.09  # held back by the tick
    assert sent[-1] - sent[1] < 0.01  # then all together


# --- metrics ------------------------------------------------------------------------------


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_each_published_job_is_counted_with_how_late_it_left(loop: Harness) -> None:
    jobs = sample("phoenix_scheduler_jobs_total")
    late = sample("phoenix_scheduler_lateness_seconds_sum")
    await loop.apply(created(), created("other", regions=["eu", "us"]))
    loop.scheduler.go_live()
    now = max(slot_after(T0), slot_after(T0, monitor_id="other")) + 0.2
    await loop.advance_to(now)  # every slot has passed: all three jobs leave late
    assert len(loop.jobs) == 3
    assert sample("phoenix_scheduler_jobs_total") - jobs == 3
    expected = sum(now - job.due_at.timestamp() for job in loop.jobs)
    assert expected >= 3 * 0.2
    assert sample("phoenix_scheduler_lateness_seconds_sum") - late == pytest.approx(expected)


async def test_a_failed_publish_is_not_counted_as_a_job(loop: Harness) -> None:
    await loop.apply(created())
    loop.scheduler.go_live()
    jobs = sample("phoenix_scheduler_jobs_total")
    loop.failures = 1
    await loop.advance_to(slot_after(T0))
    assert loop.jobs == []
    assert sample("phoenix_scheduler_jobs_total") == jobs


async def test_the_schedule_counts_active_monitors_only(loop: Harness) -> None:
    await loop.apply(created("a"), created("b"), created("c"), paused("b"))
    assert loop.scheduler.scheduled() == 2
    await loop.apply(deleted("a"), resumed("b"))
    assert loop.scheduler.scheduled() == 2
