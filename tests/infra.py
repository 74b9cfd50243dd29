"""Where the test servers come from, and how each test session isolates itself.

For each of NATS, PostgreSQL and Redis: the ``PHOENIX_*_URL`` variable when
set, else the usual local port when something answers there, else a real
server started from wheels (``phoenix_devstack``) in a temporary folder. So
``uv run pytest`` passes on a machine with nothing running.
``PHOENIX_TEST_SERVERS=embedded`` forces the embedded servers.

Isolation: a random namespace (every subject, stream and consumer is prefixed
with it, Redis keys too) and a database of our own, dropped at the end. A
running dev stack on the same servers is never touched.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

LOCAL = {
    "nats": ("PHOENIX_NATS_URL", 4222, "nats://127.0.0.1:4222"),
    "postgres": ("PHOENIX_DATABASE_URL", 5432, "postgresql://postgres@127.0.0.1:5432/postgres"),
    "redis": ("PHOENIX_REDIS_URL", 6379, "redis://127.0.0.1:6379/0"),
}


@dataclass(frozen=True)
class Servers:
    nats_url: str
    admin_database_url: str  # a database we may connect to in order to create ours
    redis_url: str


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class ServerPool:
    """Resolves the three servers once per session; starts embedded ones on demand."""

    def __init__(self) -> None:
        self._stack = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def resolve(self) -> Servers:
        urls: dict[str, str] = {}
        missing = []
        # PHOENIX_TEST_SERVERS=embedded ignores URLs and local ports: the fresh-machine path.
        only_embedded = os.environ.get("PHOENIX_TEST_SERVERS") == "embedded"
        for name, (variable, port, default) in LOCAL.items():
            if only_embedded:
                missing.append(name)
            elif os.environ.get(variable):
                urls[name] = os.environ[variable]
            elif reachable(port):
                urls[name] = default
            else:
                missing.append(name)
        if missing:
            urls |= self._embedded(missing)
        return Servers(urls["nats"], urls["postgres"], urls["redis"])

    def _embedded(self, missing: list[str]) -> dict[str, str]:
        from phoenix_devstack import EmbeddedStack

        self._dir = tempfile.TemporaryDirectory(prefix="phoenix-test-")
        self._stack = EmbeddedStack(Path(self._dir.name), services=missing)
        endpoints = self._stack.start()
        found = {
            "nats": endpoints.nats_url,
            "postgres": endpoints.database_url,
            "redis": endpoints.redis_url,
        }
        return {name: found[name] for name in missing}

    def close(self) -> None:
        if self._stack is not None:
            self._stack.stop()
        if self._dir is not None:
            self._dir.cleanup()


def new_namespace() -> str:
    return "t" + uuid.uuid4().hex[:10]


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


async def create_database(admin_url: str, name: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()
    return with_database(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await conn.close()


async def delete_streams(nats_url: str, namespace: str) -> None:
    import nats
    from phoenix_platform.messaging.streams import stream_names

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        prefix = namespace.upper() + "_"
        for name in await stream_names(js):
            # The namespace's streams, and the KV buckets made in it (leases).
            if name.startswith((prefix, "KV_" + prefix)):
                await js.delete_stream(name)
    finally:
        await nc.close()


@contextlib.asynccontextmanager
async def migrated(database_url: str, schema: str, package: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a new ``schema`` with ``package``'s migrations applied; dropped after."""
    from phoenix_platform.database import create_engine, migrate
    from sqlalchemy import text

    engine = create_engine(database_url, schema)
    await migrate(engine, schema, package)
    try:
        yield engine
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"drop schema {schema} cascade"))
        await engine.dispose()
