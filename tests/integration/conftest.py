from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import nats
import pytest
from nats.aio.client import Client
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.streams import provision, stream_configs

from tests.infra import Servers
from tests.integration.proxy import TcpProxy

pytestmark = pytest.mark.integration


@pytest.fixture
async def nc(servers: Servers) -> AsyncIterator[Client]:
    client = await nats.connect(servers.nats_url)
    yield client
    await client.close()


@pytest.fixture
async def subjects(nc: Client, fresh_namespace: str) -> Subjects:
    """A namespace with its streams provisioned and nothing in them."""
    subjects = Subjects(fresh_namespace)
    await provision(nc.jetstream(), stream_configs(subjects))
    return subjects


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    """A proxy in front of this session's PostgreSQL, to take it away and bring it back."""
    parts = urlsplit(database_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.stop()
