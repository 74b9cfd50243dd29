"""Result partitions shared by evaluator replicas through leases on one real NATS.

The property that matters: at no moment do two replicas work the same
partition, every partition is worked by someone, and every result is handled
exactly once, in order per monitor, while replicas join, leave and die.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from phoenix_contracts.checks import CheckCompleted, Timings
from phoenix_contracts.subjects import RESULT_PARTITIONS, Subjects, result_partition
from phoenix_platform.leases import PartitionLeases, fair_share, lease_bucket, plan, preference
from phoenix_platform.messaging.broker import create_broker
from phoenix_platform.messaging.codec import encode
from phoenix_platform.messaging.partitioned import PartitionedConsumer
from phoenix_platform.messaging.streams import Streams

from tests.infra import Servers

pytestmark = pytest.mark.integration
TTL = 1.5


def test_plan_gives_back_the_least_liked_partitions_first() -> None:
    order = preference("a", 8)
    assert sorted(order) == list(range(8))
    assert preference("b", 8) != order  # each replica has its own order
    owned = set(order[:5])
    release, take = plan(owned, order, share=3)
    assert release == order[3:5]
    assert take == []
    release, take = plan(set(order[:2]), order, share=3)
    assert release == []
    assert take == order[2:]
    assert fair_share(16, 3) == 6
    assert fair_share(16, 0) == 16


class Replica:
    """A replica as the evaluator wires one: leases deciding, a consumer per partition."""

    def __init__(
        self,
        name: str,
        kv: object,
        broker: NatsBroker,
        subjects: Subjects,
        handled: list[tuple[str, CheckCompleted]],
    ) -> None:
        self.name = name

        async def handle(result: CheckCompleted) -> None:
            await asyncio.sleep(0.002)  # a judge that takes a little time
            handled.append((name, result))

        self.consumer = PartitionedConsumer(
            broker,
            subjects=subjects,
            stream=Streams(subjects).results,
            durable=subjects.consumer("evaluator"),
            subject_of=subjects.results_in,
            kind=CheckCompleted,
            handler=handle,
            holds=lambda p: self.leases.holds(p),
            batch_size=16,
            max_wait=0.2,
        )
        self.leases = PartitionLeases(
            kv,  # type: ignore[arg-type]
            name,
            RESULT_PARTITIONS,
            TTL,
            on_gain=self.consumer.start,
            on_loss=self.consumer.stop,
        )
        self.task = asyncio.create_task(self.leases.run())

    def working(self) -> set[int]:
        return {p for p in self.consumer.partitions if self.leases.holds(p)}

    async def leave(self) -> None:
        """A graceful stop: hand everything back, then end."""
        await self.leases.release_all()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def die(self) -> None:
        """Killed: nothing is handed back; the keys expire after the TTL."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def broker(servers: Servers) -> AsyncIterator[NatsBroker]:
    broker = create_broker(servers.nats_url, "test")
    await broker.connect()
    yield broker
    await broker.stop()


def results(monitors: list[str], rounds: int) -> list[CheckCompleted]:
    start = datetime.now(UTC) - timedelta(hours=1)
    return [
        CheckCompleted(
            result_id=str(uuid.uuid4()),
            job_id=f"{monitor}:{n}",
            monitor_id=monitor,
            organization_id="org",
            region="default",
            due_at=start + timedelta(seconds=n),
            started_at=start + timedelta(seconds=n),
            finished_at=start + timedelta(seconds=n),
            outcome="up",
            timings=Timings(total_ms=1.0),
        )
        for n in range(rounds)
        for monitor in monitors
    ]


async def watch_overlap(
    replicas: Callable[[], list[Replica]], overlaps: list[str], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        seen: dict[int, str] = {}
        for replica in replicas():
            for partition in replica.working():
                if partition in seen:
                    overlaps.append(f"partition {partition}: {seen[partition]} and {replica.name}")
                seen[partition] = replica.name
        await asyncio.sleep(0.02)


async def test_replicas_split_the_partitions_and_every_result_is_judged_once_in_order(
    nc: Client, subjects: Subjects, broker: NatsBroker
) -> None:
    kv = await lease_bucket(nc.jetstream(), subjects.stream("EVALUATOR_LEASES"), TTL)
    js = nc.jetstream()
    monitors = [str(uuid.uuid4()) for _ in range(64)]
    assert len({result_partition(m) for m in monitors}) > RESULT_PARTITIONS // 2
    handled: list[tuple[str, CheckCompleted]] = []
    replicas = [Replica(n, kv, broker, subjects, handled) for n in ("host-a:1", "host.b:2")]
    overlaps: list[str] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_overlap(lambda: replicas, overlaps, stop))

    async def publish(batch: list[CheckCompleted]) -> None:
        for result in batch:
            await js.publish(
                subjects.result(result.monitor_id),
                encode(result),
                headers={"Nats-Msg-Id": result.result_id},
            )

    sent = results(monitors, 30)
    thirds = [sent[: len(sent) // 3], sent[len(sent) // 3 : 2 * len(sent) // 3]]
    thirds.append(sent[2 * len(sent) // 3 :])
    await publish(thirds[0])
    await asyncio.sleep(TTL)
    # Two replicas: every partition is worked, each by one of them, about half each.
    owned = [r.working() for r in replicas]
    assert owned[0] | owned[1] == set(range(RESULT_PARTITIONS))
    assert not owned[0] & owned[1]
    assert all(len(o) == RESULT_PARTITIONS // 2 for o in owned), owned

    # A third joins while results flow: the others give some partitions up to it.
    replicas.append(Replica("c", kv, broker, subjects, handled))
    await publish(thirds[1])
    await asyncio.sleep(TTL * 2)
    assert all(r.working() for r in replicas), [r.working() for r in replicas]

    # One leaves gracefully and one is killed: the survivor ends up with everything.
    await replicas[0].leave()
    await replicas[1].die()
    await publish(thirds[2])
    deadline = asyncio.get_running_loop().time() + TTL * 6
    while asyncio.get_running_loop().time() < deadline and len(handled) < len(sent):
        await asyncio.sleep(0.1)
    stop.set()
    await watcher
    assert replicas[2].working() == set(range(RESULT_PARTITIONS))
    await replicas[2].leave()

    assert overlaps == []
    ids = [result.result_id for _, result in handled]
    # At least once: a result in hand when a lease lapses under load may be judged
    # again by the next owner; the evaluator drops a result it has already applied.
    # Only a few may repeat, and only across a hand-over.
    repeated = len(ids) - len(set(ids))
    assert repeated <= len(sent) // 100, f"{repeated} results judged twice"
    assert set(ids) == {r.result_id for r in sent}, "a result was never judged"
    by_monitor: dict[str, list[datetime]] = defaultdict(list)
    for _, result in handled:
        by_monitor[result.monitor_id].append(result.finished_at)
    assert all(times == sorted(times) for times in by_monitor.values()), "judged out of order"
    assert {name for name, _ in handled} == {"host-a:1", "host.b:2", "c"}


async def test_a_replica_that_cannot_renew_stops_working_before_its_lease_can_pass(
    nc: Client, subjects: Subjects
) -> None:
    kv = await lease_bucket(nc.jetstream(), subjects.stream("EVALUATOR_LEASES"), TTL)

    async def nothing(partition: int) -> None:
        return None

    silent = PartitionLeases(kv, "silent", RESULT_PARTITIONS, TTL, nothing, nothing)
    await silent.step()  # takes everything, then never renews (frozen, or cut off from NATS)
    assert all(silent.holds(p) for p in range(RESULT_PARTITIONS))
    other = PartitionLeases(kv, "other", RESULT_PARTITIONS, TTL, nothing, nothing)
    loop = asyncio.get_running_loop()
    started = loop.time()
    stopped_at = took_at = None
    while loop.time() - started < TTL * 5 and took_at is None:
        if stopped_at is None and not any(silent.holds(p) for p in range(RESULT_PARTITIONS)):
            stopped_at = loop.time() - started
        await other.step()
        if other.owned and took_at is None:
            took_at = loop.time() - started
        await asyncio.sleep(0.05)
    assert took_at is not None, "the silent replica's partitions never passed on"
    assert stopped_at is not None
    assert stopped_at < took_at, (stopped_at, took_at)
    await other.release_all()
