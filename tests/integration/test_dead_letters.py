"""Work consumers never stall on a bad message: it is parked, the rest flows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from nats.aio.client import Client
from phoenix_contracts.checks import CheckJob
from phoenix_contracts.monitors import MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.broker import create_broker
from phoenix_platform.messaging.codec import encode
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.messaging.work import PermanentError, WorkConsumer
from prometheus_client import REGISTRY

from tests.infra import Servers

pytestmark = pytest.mark.integration


def job(region: str, n: int) -> CheckJob:
    now = datetime.now(UTC)
    return CheckJob(
        job_id=f"job-{region}-{n}",
        monitor_id="m",
        organization_id="o",
        region=region,
        due_at=now,
        deadline=now + timedelta(minutes=1),
        spec=MonitorSpec(name="x", type="http", url="https://example.com"),
    )


async def parked(
    nc: Client, subjects: Subjects, count: int, timeout: float = 10.0
) -> list[dict[str, str]]:
    js = nc.jetstream()
    stream = Streams(subjects).dead_letters
    async with asyncio.timeout(timeout):
        while (await js.stream_info(stream)).state.messages < count:
            await asyncio.sleep(0.05)
    headers = []
    for seq in range(1, count + 1):
        msg = await js.get_msg(stream, seq)
        headers.append(dict(msg.headers or {}))
    return headers


async def test_bad_and_failing_messages_are_parked_while_good_ones_flow(
    servers: Servers, nc: Client, subjects: Subjects
) -> None:
    handled: list[str] = []

    async def handler(item: CheckJob) -> None:
        if item.region == "poison":
            raise RuntimeError("cannot handle this one")
        if item.region == "refused":
            raise PermanentError("bad configuration")
        handled.append(item.job_id)

    broker = create_broker(servers.nats_url, "test")
    streams = Streams(subjects)
    consumer = WorkConsumer(
        broker,
        subjects=subjects,
        subject=subjects.all_check_jobs,
        stream=streams.checks,
        durable=subjects.consumer("test"),
        kind=CheckJob,
        handler=handler,
        max_deliver=2,
        max_workers=4,
    )
    await broker.connect()
    running = asyncio.create_task(consumer.run())
    try:
        js = nc.jetstream()
        await js.publish(subjects.check_job("a"), b"{not json")
        await js.publish(subjects.check_job("poison"), encode(job("poison", 1)))
        await js.publish(subjects.check_job("refused"), encode(job("refused", 1)))
        for n in range(5):
            await js.publish(subjects.check_job("a"), encode(job("a", n)))
        dead = await parked(nc, subjects, 3, timeout=15)
    finally:
        await consumer.stop()
        await running
        await broker.stop()

    assert sorted(handled) == [f"job-a-{n}" for n in range(5)]
    errors = sorted(h["Phx-Dlq-Error"].split(":")[0] for h in dead)
    assert errors == ["RuntimeError", "bad configuration", "undecodable"]
    assert all(h["Phx-Dlq-Stream"] == streams.checks for h in dead)
    assert {h["Phx-Dlq-Sequence"] for h in dead} == {"1", "2", "3"}
    # The work queue holds nothing any more: parked messages were terminated.
    await asyncio.sleep(0.2)
    assert (await nc.jetstream().stream_info(streams.checks)).state.messages == 0
    # The poison job was handed back once (delivery 1 of 2), then parked like the other two.
    labels = {"stream": streams.checks}
    assert REGISTRY.get_sample_value("phoenix_messages_retried_total", labels) == 1
    assert REGISTRY.get_sample_value("phoenix_messages_dead_lettered_total", labels) == 3
