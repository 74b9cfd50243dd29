"""A work consumer's durable takes only its own subject, however it was made."""

from __future__ import annotations

import pytest
from nats.aio.client import Client
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.messaging.work import pull_config, pull_subscription

pytestmark = pytest.mark.integration


async def test_each_region_s_durable_is_filtered_to_its_region(
    nc: Client, subjects: Subjects
) -> None:
    """Two regions' executors on one work-queue stream: an unfiltered durable would
    take the other region's jobs, and the server refuses a second one outright."""
    js = nc.jetstream()
    stream = Streams(subjects).checks
    for region in ("eu", "us"):
        config = pull_config(f"{subjects.namespace}-executor-{region}", 30.0, 16)
        subscription = await pull_subscription(js, subjects.check_job(region), stream, config)
        info = await subscription.consumer_info()
        assert info.config.filter_subject == subjects.check_job(region)
        assert info.config.max_deliver == -1
        await subscription.unsubscribe()

    await js.publish(subjects.check_job("us"), b"job for us")
    eu = await js.pull_subscribe(
        subjects.check_job("eu"), durable=f"{subjects.namespace}-executor-eu", stream=stream
    )
    with pytest.raises(TimeoutError):
        await eu.fetch(1, timeout=1.0)
    us = await js.pull_subscribe(
        subjects.check_job("us"), durable=f"{subjects.namespace}-executor-us", stream=stream
    )
    [message] = await us.fetch(1, timeout=5.0)
    assert message.data == b"job for us"
    await message.ack()
