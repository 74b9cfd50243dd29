"""Wiring of the gateway: HTTP API, read-model projector and the config role."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from functools import partial

import uvicorn
from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.maintenance import MAINTENANCE, MaintenanceCommand
from phoenix_contracts.monitors import MONITOR, MonitorCommand
from phoenix_contracts.notifications import (
    ALERT_RULE,
    CHANNEL,
    AlertRuleCommand,
    ChannelCommand,
)
from phoenix_contracts.statuspages import STATUS_PAGE, STATUS_PAGE_VERBS, StatusPageCommand
from phoenix_contracts.tags import TAG, TAG_VERBS, TagCommand
from phoenix_platform.database import create_engine, migrate
from phoenix_platform.logging import configure
from phoenix_platform.messaging.requests import responder
from phoenix_platform.messaging.work import BatchConsumer
from phoenix_platform.netguard import parse_networks
from phoenix_platform.projection import Projector
from phoenix_platform.redis import create_redis
from phoenix_platform.runtime import Runtime, load_settings_or_exit, run
from phoenix_platform.settings import secrets_key_bytes

from phoenix_gateway.api.clients import TrustedProxies
from phoenix_gateway.api.commands import CommandBus
from phoenix_gateway.api.idempotency import idempotency_middleware
from phoenix_gateway.api.live import LiveFeed
from phoenix_gateway.api.principal import PrincipalResolver
from phoenix_gateway.api.public_status import PublicPages
from phoenix_gateway.app import AppDeps, create_app
from phoenix_gateway.config import handlers as config
from phoenix_gateway.readmodel.deliveries import DeliveryReads
from phoenix_gateway.readmodel.history import History, history_partitions
from phoenix_gateway.readmodel.partitions import PartitionManager
from phoenix_gateway.readmodel.projection import ReadModelProjection
from phoenix_gateway.readmodel.queries import ReadModel
from phoenix_gateway.readmodel.rollups import Rollups
from phoenix_gateway.readmodel.statuspages import StatusPageReads
from phoenix_gateway.settings import GatewaySettings
from phoenix_gateway.statuspage.access import PageAccess
from phoenix_gateway.statuspage.invalidation import CacheInvalidator
from phoenix_gateway.statuspage.view import StatusPageViews

SERVICE = "gateway"


class _Server(uvicorn.Server):
    # The runtime owns SIGTERM/SIGINT; uvicorn must not replace its handlers.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def route_config_commands(runtime: Runtime, deps: config.ConfigDeps) -> None:
    """Which command subject goes to which handler of the config role."""
    routes: list[tuple[str, tuple[str, ...], object, Callable[..., Awaitable[object]]]] = [
        (
            MONITOR,
            ("create", "update", "pause", "resume", "delete"),
            MonitorCommand,
            config.handle_monitor,
        ),
        (CHANNEL, ("create", "update", "delete"), ChannelCommand, config.handle_channel),
        (
            MAINTENANCE,
            ("create", "update", "activate", "deactivate", "delete"),
            MaintenanceCommand,
            config.handle_maintenance,
        ),
        (
            ALERT_RULE,
            ("create", "update", "delete"),
            AlertRuleCommand,
            config.handle_alert_rule,
        ),
        (TAG, TAG_VERBS, TagCommand, config.handle_tag),
        (STATUS_PAGE, STATUS_PAGE_VERBS, StatusPageCommand, config.handle_status_page),
    ]
    for aggregate, verbs, kind, handler in routes:
        for verb in verbs:
            responder(
                runtime.broker,
                runtime.subjects.command(aggregate, verb),
                queue="config",
                kind=kind,
                handler=partial(handler, deps=deps),
            )


async def serve(settings: GatewaySettings) -> None:
    runtime = Runtime(SERVICE, settings)
    engine = create_engine(
        settings.database_url,
        SERVICE,
        pool_size=10,
        statement_timeout=settings.db_statement_timeout,
    )
    redis = create_redis(settings.redis_url)
    runtime.use_database(engine)
    runtime.use_redis(redis)
    await migrate(engine, SERVICE, "phoenix_gateway.migrations")
    read_model = ReadModel(engine)
    await runtime.connect()
    route_config_commands(
        runtime,
        config.ConfigDeps(
            store=runtime.event_store,
            min_interval=settings.min_interval,
            known_regions=settings.region_names,
            secrets_key=secrets_key_bytes(settings.secrets_key),
            max_monitors=settings.max_monitors,
            monitor_count_of=read_model.monitor_count,
            channel_ids_of=read_model.channel_ids,
            tag_names_of=read_model.tag_names,
            status_page_slugs=read_model.status_page_slugs,
            monitor_ids_of=read_model.monitor_ids,
            max_maintenance_windows=settings.max_maintenance_windows,
            window_count_of=partial(read_model.count, "maintenance"),
        ),
    )
    partitions = PartitionManager(engine, history_partitions(settings.results_retention_days))
    await partitions.maintain()
    runtime.background("history-partitions", partitions.run)
    history = History(engine, partitions)
    # The gateway's own durable on RESULTS (limits retention): every result, once, into
    # history, in batches of what is waiting (one transaction each, acked after commit).
    recorder = BatchConsumer(
        runtime.broker,
        subjects=runtime.subjects,
        subject=runtime.subjects.all_results,
        stream=runtime.streams.results,
        durable=runtime.subjects.consumer("gateway-history"),
        kind=CheckCompleted,
        handler=history.record_many,
        max_deliver=settings.max_deliver,
        batch_size=500,
        # History is read by people, not by the pipeline: a quarter second more
        # costs nobody, and at 333 results/s it makes ~80 rows one transaction.
        linger=0.25,
    )
    runtime.background("history-recorder", recorder.run)
    projector = Projector(
        runtime.js,
        runtime.subjects,
        engine,
        ReadModelProjection(),
        stall_after=settings.projection_stall_seconds,
    )
    runtime.background("read-model-projection", projector.run)
    runtime.readiness("projection", projector.is_ready)
    runtime.detail("projection", projector.lag)
    page_reads = StatusPageReads(engine)
    views = StatusPageViews(page_reads, history, redis, settings.namespace)
    invalidator = CacheInvalidator(
        runtime.js, runtime.subjects, projector, views, page_reads.page_ids_of
    )
    runtime.background("status-page-cache-invalidation", invalidator.run)
    trusted_proxies = TrustedProxies(parse_networks(settings.trusted_proxies))
    resolver = PrincipalResolver(runtime.broker.connection, runtime.subjects)
    await resolver.listen_for_revocations()
    live = LiveFeed(runtime.broker.connection, runtime.subjects)
    app = create_app(
        AppDeps(
            runtime=runtime,
            nats=runtime.broker.connection,
            subjects=runtime.subjects,
            commands=CommandBus(
                runtime.broker.connection, runtime.subjects, projector, settings.command_timeout
            ),
            read_model=read_model,
            cookie_secure=settings.cookie_secure,
            max_body_bytes=settings.max_body_bytes,
            resolver=resolver,
            live=live,
            idempotency=idempotency_middleware(redis, settings.namespace, resolver),
            trusted_proxies=trusted_proxies,
            history=history,
            rollups=Rollups(engine),
            deliveries=DeliveryReads(engine),
            public_pages=PublicPages(
                views,
                PageAccess(redis, settings.namespace),
                page_reads,
                trusted_proxies,
                settings.cookie_secure,
            ),
        )
    )
    server = _Server(
        uvicorn.Config(
            app,
            host=settings.gateway_host,
            port=settings.gateway_port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            proxy_headers=False,
        )
    )

    async def serve_http() -> None:
        with contextlib.suppress(SystemExit):  # uvicorn's way of saying it could not bind
            await server.serve()

    http = asyncio.create_task(serve_http(), name="http")

    def http_ended(_: asyncio.Task[None]) -> None:
        runtime.fail(
            f"the HTTP server on {settings.gateway_host}:{settings.gateway_port} stopped"
            " (is the port taken? set PHOENIX_GATEWAY_PORT)"
        )

    http.add_done_callback(http_ended)

    async def stop_http() -> None:
        # Stop accepting, let in-flight requests finish, then the rest stops.
        server.should_exit = True
        await asyncio.wait_for(http, timeout=20)

    runtime.on_stopping(stop_http)
    # The health port serves /metrics away from the public API port.
    await runtime.serve()


def main() -> None:
    settings = load_settings_or_exit(GatewaySettings)
    configure(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run(lambda: serve(settings))
