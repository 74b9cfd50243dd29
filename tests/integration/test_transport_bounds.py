"""Bounds on the transport and the database: stream byte limits, the check job size,
and the statement timeout every service's sessions carry."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import msgspec
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy
from nats.js.errors import APIError
from phoenix_contracts.checks import CheckJob
from phoenix_contracts.subjects import Subjects
from phoenix_platform.database import create_engine
from phoenix_platform.messaging.streams import (
    StreamLimits,
    Streams,
    _differs,
    provision,
    stream_configs,
)
from phoenix_scheduler.scheduler import Scheduler, job_publisher
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.unit.test_scheduler_loop import created

pytestmark = pytest.mark.integration
KIB = 1024


async def test_every_stream_has_byte_limits_and_work_queues_refuse_new(
    nc: Client, fresh_namespace: str
) -> None:
    js = nc.jetstream()
    subjects = Subjects(fresh_namespace)
    streams = Streams(subjects)
    # Streams as an older release made them: no byte limits at all.
    unbounded = [
        replace(c, max_bytes=-1, max_msg_size=-1, discard=DiscardPolicy.OLD)
        for c in stream_configs(subjects)
    ]
    await provision(js, unbounded)
    wanted = stream_configs(subjects, limits=StreamLimits(work_max_bytes=64 * KIB))
    await provision(js, wanted)  # a start of this release updates them in place
    # Asked one by one: a listing stops at a page of 256, and a shared server has more.
    found = {c.name: (await js.stream_info(c.name)).config for c in wanted if c.name}
    for config in wanted:
        assert config.name is not None
        assert not _differs(found[config.name], config), config.name  # a second start: no-op
        assert (found[config.name].max_msg_size or -1) > 0, config.name
        if config.name != streams.events:  # the log is kept whole, forever
            assert (found[config.name].max_bytes or -1) > 0, config.name
    for name in (streams.checks, streams.notify):
        assert found[name].discard == DiscardPolicy.NEW
    # Full, the CHECKS queue refuses the next job and keeps the queued ones.
    stored = await publish_until_refused(js, subjects.check_job("default"), 4 * KIB)
    assert 0 < stored < 16
    assert (await js.stream_info(streams.checks)).state.messages == stored
    # One oversized event is refused by the log itself.
    with pytest.raises(APIError):
        await js.publish(subjects.event("monitor", "x"), b"x" * (600 * KIB))


async def publish_until_refused(js: JetStreamContext, subject: str, size: int) -> int:
    """How many messages of ``size`` bytes the stream took before refusing one."""
    for n in range(100):
        try:
            await js.publish(subject, b"%04d" % n * (size // 4))
        except APIError:
            return n
    raise AssertionError("the stream took 100 messages: it has no byte limit")


def refused() -> float:
    return REGISTRY.get_sample_value("phoenix_scheduler_jobs_refused_total") or 0.0


async def test_the_scheduler_never_publishes_an_oversized_job(
    nc: Client, subjects: Subjects
) -> None:
    js = nc.jetstream()
    big = "0190a4d2-7a53-7c1e-9f2b-00000000000b"
    small = "0190a4d2-7a53-7c1e-9f2b-00000000000a"
    scheduler = Scheduler(job_publisher(js, subjects, 64 * KIB), tick=0)
    scheduler.go_live()
    before = refused()
    headers = {f"x-h{i}": "v" * 8000 for i in range(20)}  # ~160 KB per job
    scheduler.apply(created(big, headers=headers, regions=["eu", "us", "ap"]), 1)
    scheduler.apply(created(small), 2)
    loop = asyncio.create_task(scheduler.run())
    try:
        deadline = time.monotonic() + 10
        while refused() - before < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the small monitor's job, fired alongside
    finally:
        loop.cancel()
    assert refused() - before == 3  # every region's job, counted
    checks = Streams(subjects).checks
    consumer = await js.pull_subscribe(subjects.all_check_jobs, durable="probe", stream=checks)
    messages = await consumer.fetch(10, timeout=2)
    jobs = [msgspec.json.decode(m.data, type=CheckJob) for m in messages]
    assert [job.monitor_id for job in jobs] == [small]


async def test_a_statement_past_the_timeout_is_cancelled_and_the_pool_lives_on(
    database_url: str,
) -> None:
    engine = create_engine(database_url, "public", pool_size=1, statement_timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(DBAPIError) as caught:
            async with engine.connect() as conn:
                await conn.execute(text("select pg_sleep(30)"))
        assert time.monotonic() - started < 10
        assert getattr(caught.value.orig, "sqlstate", None) == "57014"  # query_canceled
        async with engine.connect() as conn:  # the one pooled connection is usable again
            assert await conn.scalar(text("select 1")) == 1
            assert await conn.scalar(text("show statement_timeout")) == "500ms"
    finally:
        await engine.dispose()
