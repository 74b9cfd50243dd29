"""Wiring of the notifier: route status changes to jobs, deliver jobs."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import httpx
from phoenix_contracts.notifications import DELIVERY, NotificationJob, RetryDelivery, TestChannel
from phoenix_platform.database import create_engine, migrate
from phoenix_platform.logging import configure
from phoenix_platform.messaging.codec import encode
from phoenix_platform.messaging.requests import responder
from phoenix_platform.messaging.work import WorkConsumer
from phoenix_platform.netguard import NetGuard, parse_networks
from phoenix_platform.projection import Projector
from phoenix_platform.runtime import Runtime, load_settings_or_exit, run
from phoenix_platform.settings import secrets_key_bytes

from phoenix_notifier import reminders
from phoenix_notifier.channels.base import HttpTransport
from phoenix_notifier.channels.registry import channels as all_channels
from phoenix_notifier.delivery import DeliveryDeps, deliver, gave_up
from phoenix_notifier.journal import Journal
from phoenix_notifier.retry import RetryDeps, retry_delivery
from phoenix_notifier.routing import RoutingProjection
from phoenix_notifier.settings import NotifierSettings
from phoenix_notifier.testing import TestDeps, test_channel

SERVICE = "notifier"


async def serve(settings: NotifierSettings) -> None:
    runtime = Runtime(SERVICE, settings)
    engine = create_engine(
        settings.database_url, SERVICE, statement_timeout=settings.db_statement_timeout
    )
    runtime.use_database(engine)
    await migrate(engine, SERVICE, "phoenix_notifier.migrations")
    await runtime.connect()
    js = runtime.js

    async def publish(job: NotificationJob, message_id: str | None = None) -> None:
        await js.publish(
            runtime.subjects.notify_job(job.channel_type),
            encode(job),
            headers={"Nats-Msg-Id": message_id or job.key},
        )

    journal = Journal(runtime.event_store)
    routing = RoutingProjection(publish, journal, timedelta(seconds=settings.alert_max_age))
    projector = Projector(
        js, runtime.subjects, engine, routing, stall_after=settings.projection_stall_seconds
    )
    client = httpx.AsyncClient(
        timeout=settings.send_timeout, follow_redirects=False, trust_env=False
    )
    runtime.on_stop(client.aclose)
    guard = NetGuard(parse_networks(settings.allow_private_targets))
    channels = all_channels(HttpTransport(client, guard), guard, send_timeout=settings.send_timeout)
    secrets_key = secrets_key_bytes(settings.secrets_key)
    deps = DeliveryDeps(
        engine=engine,
        channels=channels,
        secrets_key=secrets_key,
        journal=journal,
        lease_seconds=settings.send_timeout * 3,
    )
    deliveries = WorkConsumer(
        runtime.broker,
        subjects=runtime.subjects,
        subject=runtime.subjects.all_notify_jobs,
        stream=runtime.streams.notify,
        durable=runtime.subjects.consumer("notifier"),
        kind=NotificationJob,
        handler=lambda job: deliver(job, deps),
        max_deliver=settings.max_deliver,
        ack_wait=settings.send_timeout * 3,
        max_workers=16,
        on_give_up=lambda job, error: gave_up(job, error, deps),
        drain_timeout=settings.send_timeout + 5,
    )
    runtime.consume("deliveries", deliveries)  # on stop, sends in hand finish and are recorded
    responder(
        runtime.broker,
        runtime.subjects.command("channel", TestChannel.verb),
        queue=SERVICE,
        kind=TestChannel,
        handler=partial(
            test_channel,
            deps=TestDeps(
                engine=engine,
                channels=channels,
                projector=projector,
                js=js,
                stream=runtime.streams.events,
                events_subject=runtime.subjects.all_events,
                secrets_key=secrets_key,
            ),
        ),
    )
    responder(
        runtime.broker,
        runtime.subjects.command(DELIVERY, RetryDelivery.verb),
        queue=SERVICE,
        kind=RetryDelivery,
        handler=partial(
            retry_delivery, deps=RetryDeps(engine=engine, journal=journal, publish=publish)
        ),
    )
    runtime.background("reminders", lambda: reminders.run(engine, routing.enqueue))
    runtime.background("routing-projection", projector.run)
    runtime.readiness("projection", projector.is_ready)
    runtime.detail("projection", projector.lag)
    await runtime.serve()


def main() -> None:
    settings = load_settings_or_exit(NotifierSettings)
    configure(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run(lambda: serve(settings))
