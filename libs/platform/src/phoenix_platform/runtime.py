"""The life of one service process: connect, provision, serve, drain on SIGTERM.

A service's ``main`` builds a :class:`Runtime`, registers its handlers on
``runtime.broker`` and its background loops with :meth:`Runtime.background`,
then awaits :meth:`Runtime.serve`. On SIGTERM or SIGINT the broker stops
taking messages and waits for in-flight handlers (faststream's graceful
timeout), background loops are cancelled, and connections close.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from phoenix_contracts.subjects import Subjects

from phoenix_platform import metrics
from phoenix_platform.health import Detail, HealthServer, ReadinessCheck
from phoenix_platform.logging import get_logger
from phoenix_platform.messaging.broker import create_broker
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.messaging.streams import (
    MIB,
    StreamLimits,
    Streams,
    provision,
    stream_configs,
)
from phoenix_platform.settings import BaseSettings, SettingsError, load

if TYPE_CHECKING:  # imported lazily: services without a database start faster
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine

log = get_logger(__name__)
S = TypeVar("S", bound=BaseSettings)


class Consumer(Protocol):
    """A pull loop of its own (``WorkConsumer``): ``run`` until ``stop``."""

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


class Runtime:
    def __init__(self, service: str, settings: BaseSettings) -> None:
        self.service = service
        self.settings = settings
        self.subjects = Subjects(settings.namespace)
        self.streams = Streams(self.subjects)
        self.broker: NatsBroker = create_broker(settings.nats_url, service)
        self._checks: dict[str, ReadinessCheck] = {"nats": self._nats_ready}
        self._details: dict[str, Detail] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._on_stop: list[Callable[[], Awaitable[Any]]] = []
        self._on_stopping: list[Callable[[], Awaitable[Any]]] = []
        self._stopping = asyncio.Event()
        self._failure: str | None = None
        self._health: HealthServer | None = None
        metrics.BUILD_INFO.labels(service, _version()).set(1)

    # --- wiring --------------------------------------------------------------
    @property
    def js(self) -> JetStreamContext:
        return self.broker.connection.jetstream()

    @property
    def event_store(self) -> EventStore:
        return EventStore(self.js, self.subjects)

    def readiness(self, name: str, check: ReadinessCheck) -> None:
        self._checks[name] = check

    def detail(self, name: str, report: Detail) -> None:
        """Something /readyz reports without deciding readiness (a projection's lag)."""
        self._details[name] = report

    def use_database(self, engine: AsyncEngine) -> None:
        from phoenix_platform.database import ping

        self.readiness("postgres", lambda: ping(engine))
        self.on_stop(engine.dispose)

    def use_redis(self, redis: Redis) -> None:
        from phoenix_platform.redis import ping as redis_ping

        self.readiness("redis", lambda: redis_ping(redis))
        self.on_stop(redis.aclose)

    def on_stop(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Run at the end of a stop (close connections), last registered first."""
        self._on_stop.append(callback)

    def on_stopping(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Run at the start of a stop, before message handling is drained."""
        self._on_stopping.append(callback)

    def background(self, name: str, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``factory()`` until stop; restart it with backoff if it crashes."""
        self._tasks.append(asyncio.create_task(self._supervise(name, factory), name=name))

    def consume(self, name: str, consumer: Consumer) -> None:
        """Run ``consumer`` in the background; at the start of a stop it finishes what
        it holds and hands back the rest, before the connection drains."""
        self.background(name, consumer.run)
        self.on_stopping(consumer.stop)

    async def connect(self) -> None:
        """Connect to NATS and make sure the streams exist (idempotent)."""
        await self.broker.connect()
        await provision(
            self.js,
            stream_configs(
                self.subjects,
                replicas=self.settings.stream_replicas,
                limits=stream_limits(self.settings),
            ),
        )

    async def serve(self, *, health: bool = True) -> None:
        await self.broker.start()
        if health:
            self._health = HealthServer(self.service, self._checks, self._details)
            # Loopback unless told otherwise: /metrics and /readyz tell a stranger
            # too much. Containers set PHOENIX_HEALTH_HOST=0.0.0.0 for their probes.
            await self._health.start(self.settings.health_host, self.settings.health_port)
            log.info(
                "service.health_listening", host=self.settings.health_host, port=self._health.port
            )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        log.info("service.started")
        await self._stopping.wait()
        await self.stop()
        if self._failure is not None:
            raise SystemExit(1)

    def request_stop(self) -> None:
        self._stopping.set()

    def fail(self, reason: str) -> None:
        """Something the service cannot run without has ended: stop, exit non-zero."""
        if self._stopping.is_set():
            return
        log.error("service.failed", reason=reason)
        self._failure = reason
        self._stopping.set()

    async def stop(self) -> None:
        log.info("service.stopping")
        for callback in self._on_stopping:
            await _quietly(callback)
        await self.broker.stop()  # drains: in-flight handlers finish first
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for callback in reversed(self._on_stop):
            await _quietly(callback)
        if self._health is not None:
            await self._health.stop()
        log.info("service.stopped")

    async def ready(self) -> tuple[bool, dict[str, bool]]:
        return await HealthServer(self.service, self._checks).readiness()

    async def details(self) -> dict[str, dict[str, int]]:
        return await HealthServer(self.service, self._checks, self._details).details()

    async def _nats_ready(self) -> bool:
        return bool(self.broker._connection and self.broker.connection.is_connected)

    async def _supervise(self, name: str, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        delay = 0.5
        while not self._stopping.is_set():
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._stopping.is_set():
                    return  # its connection is being drained: the end, not a crash
                log.exception("service.task_crashed", task=name, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)


def stream_limits(settings: BaseSettings) -> StreamLimits:
    return StreamLimits(
        work_max_bytes=settings.work_stream_max_mb * MIB,
        results_max_bytes=settings.results_stream_max_mb * MIB,
        dead_letters_max_bytes=settings.dead_letter_stream_max_mb * MIB,
        max_message_bytes=settings.max_message_kb * 1024,
    )


async def _quietly(callback: Callable[[], Awaitable[Any]]) -> None:
    try:
        await callback()
    except Exception as exc:
        log.warning("service.stop_callback_failed", error=f"{type(exc).__name__}: {exc}")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("phoenix-platform")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def load_settings_or_exit(cls: type[S]) -> S:
    """Settings, or one clear line on stderr and exit status 2."""
    try:
        return load(cls)
    except SettingsError as exc:
        print(f"phoenix: invalid configuration: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:  # pragma: no cover - uvloop is absent only on Windows
        asyncio.run(main())
