"""The auth service's handlers with their real dependencies, one namespace per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from phoenix_auth.handlers import AuthDeps
from phoenix_auth.projection import IdentityProjection
from phoenix_auth.sessions import SessionStore
from phoenix_auth.throttle import LoginThrottle
from phoenix_contracts.subjects import Subjects
from phoenix_platform.database import create_engine, migrate
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.messaging.streams import provision, stream_configs
from phoenix_platform.projection import Projector
from phoenix_platform.redis import create_redis
from phoenix_platform.sealing import new_key, parse_key
from sqlalchemy import text

from tests.infra import Servers


@pytest.fixture
async def deps(
    servers: Servers, database_url: str, fresh_namespace: str
) -> AsyncIterator[AuthDeps]:
    """The auth service's dependencies as ``main`` wires them, on this test's namespace."""
    nc = await nats.connect(servers.nats_url)
    subjects = Subjects(fresh_namespace)
    await provision(nc.jetstream(), stream_configs(subjects))
    schema = f"auth_{fresh_namespace}"
    engine = create_engine(database_url, schema)
    await migrate(engine, schema, "phoenix_auth.migrations")
    projector = Projector(
        nc.jetstream(), subjects, engine, IdentityProjection(), subject=f"{fresh_namespace}.evt.>"
    )
    following = asyncio.create_task(projector.run())
    redis = create_redis(servers.redis_url)

    async def revoked(user_id: str) -> None:
        return None

    yield AuthDeps(
        engine=engine,
        store=EventStore(nc.jetstream(), subjects),
        projector=projector,
        sessions=SessionStore(redis, fresh_namespace, 3600, 7200),
        throttle=LoginThrottle(redis, fresh_namespace, per_account=5, per_address=50, window=60),
        redis=redis,
        namespace=fresh_namespace,
        signup_mode="open",
        revoked=revoked,
        totp_key=parse_key(new_key()),
    )
    following.cancel()
    async with engine.begin() as conn:
        await conn.execute(text(f"drop schema {schema} cascade"))
    await engine.dispose()
    await redis.aclose()
    await nc.close()
