"""Session-wide fixtures: real servers, an isolated namespace and database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.infra import (
    ServerPool,
    Servers,
    create_database,
    delete_streams,
    drop_database,
    new_namespace,
)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    pool = ServerPool()
    try:
        yield pool.resolve()
    finally:
        pool.close()


@pytest.fixture(scope="session")
async def namespace(servers: Servers) -> AsyncIterator[str]:
    """This session's namespace; its streams are deleted at the end."""
    name = new_namespace()
    yield name
    await delete_streams(servers.nats_url, name)


@pytest.fixture
async def fresh_namespace(servers: Servers) -> AsyncIterator[str]:
    """A namespace for one test, for tests that need empty streams."""
    name = new_namespace()
    yield name
    await delete_streams(servers.nats_url, name)


@pytest.fixture(scope="session")
async def database_url(servers: Servers, namespace: str) -> AsyncIterator[str]:
    name = f"phoenix_{namespace}"
    url = await create_database(servers.admin_database_url, name)
    yield url
    await drop_database(servers.admin_database_url, name)
