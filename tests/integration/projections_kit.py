"""The three PostgreSQL projections of the stack, run on a test's own log and database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext
from phoenix_auth.projection import IdentityProjection
from phoenix_contracts.notifications import NotificationJob
from phoenix_contracts.subjects import Subjects
from phoenix_gateway.readmodel.projection import ReadModelProjection
from phoenix_notifier.journal import Journal
from phoenix_notifier.routing import RoutingProjection
from phoenix_platform.database import create_engine, migrate
from phoenix_platform.follower import Follower
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.projection import Projector
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.infra import Servers, create_database, drop_database

# schema → the package of its migrations
SCHEMAS = {
    "gateway": "phoenix_gateway.migrations",
    "auth": "phoenix_auth.migrations",
    "notifier": "phoenix_notifier.migrations",
}


@dataclass
class Stack:
    url: str
    engines: dict[str, AsyncEngine]
    projectors: dict[str, Projector]
    sent: list[NotificationJob]
    crashes: list[str]  # every restart of a projector, with its error

    async def wait_for(self, sequence: int, timeout: float = 30.0) -> dict[str, bool]:
        """Which projections reached ``sequence`` in time."""
        reached = await asyncio.gather(
            *(p.wait_for(sequence, timeout) for p in self.projectors.values())
        )
        return dict(zip(self.projectors, reached, strict=True))


def projectors(
    js: JetStreamContext, subjects: Subjects, engines: dict[str, AsyncEngine], stall_after: float
) -> tuple[dict[str, Projector], list[NotificationJob]]:
    sent: list[NotificationJob] = []

    async def publish(job: NotificationJob, message_id: str | None = None) -> None:
        sent.append(job)

    routing = RoutingProjection(publish, Journal(EventStore(js, subjects)), timedelta(minutes=10))
    built = {
        "gateway-read-model": Projector(
            js, subjects, engines["gateway"], ReadModelProjection(), stall_after=stall_after
        ),
        "auth-identity": Projector(
            js,
            subjects,
            engines["auth"],
            IdentityProjection(),
            subject=f"{subjects.namespace}.evt.>",
            stall_after=stall_after,
        ),
        "notifier-routing": Projector(
            js, subjects, engines["notifier"], routing, stall_after=stall_after
        ),
    }
    return built, sent


async def supervised(projector: Follower, crashes: list[str] | None = None) -> None:
    """What ``Runtime.background`` does for a service: restart it after a crash
    (noted in ``crashes``), until cancelled."""
    while True:
        try:
            await projector.run()  # type: ignore[attr-defined]
        except Exception as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from exc  # a cancel the driver turned into an error
            if crashes is not None:
                crashes.append(f"{type(projector).__name__}: {type(exc).__name__}: {exc}"[:300])
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_stack(
    admin_url: str, js: JetStreamContext, subjects: Subjects, *, stall_after: float = 30.0
) -> AsyncIterator[Stack]:
    """A database of the test's own with the three services' schemas, and their projectors."""
    name = f"phoenix_{subjects.namespace}"
    url = await create_database(admin_url, name)
    engines = {schema: create_engine(url, schema) for schema in SCHEMAS}
    tasks: list[asyncio.Task[None]] = []
    try:
        for schema, package in SCHEMAS.items():
            await migrate(engines[schema], schema, package)
        built, sent = projectors(js, subjects, engines, stall_after)
        crashes: list[str] = []
        tasks = [asyncio.create_task(supervised(p, crashes)) for p in built.values()]
        yield Stack(url, engines, built, sent, crashes)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for engine in engines.values():
            await engine.dispose()
        await drop_database(admin_url, name)


def now() -> datetime:
    return datetime.now(UTC)


async def phoenix(
    servers: Servers, url: str, namespace: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """The ``phoenix`` command on this test's servers, in a thread: the projectors
    running in this event loop must keep going meanwhile (the command may wait
    for a checkpoint lock one of them holds)."""
    env = {
        **os.environ,
        "PHOENIX_NATS_URL": servers.nats_url,
        "PHOENIX_DATABASE_URL": url,
        "PHOENIX_NAMESPACE": namespace,
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "phoenix_cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
