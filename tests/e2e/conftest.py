from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.e2e.peers import Target, WebhookSink
from tests.e2e.stack import RunningStack, stack_env, start_stack
from tests.infra import (
    Servers,
    create_database,
    delete_streams,
    drop_database,
    new_namespace,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def module_namespace(servers: Servers) -> AsyncIterator[tuple[str, str]]:
    """A namespace and database of this module's own: no monitor of another module
    keeps being checked (and alerting) while this module's stack runs."""
    namespace = new_namespace()
    database = f"phoenix_{namespace}"
    url = await create_database(servers.admin_database_url, database)
    yield namespace, url
    await drop_database(servers.admin_database_url, database)
    await delete_streams(servers.nats_url, namespace)


@pytest.fixture(scope="module")
def stack_settings() -> dict[str, str]:
    """Settings a module adds to (or changes in) its stack's environment."""
    return {}


@pytest.fixture(scope="module")
def stack(
    servers: Servers,
    module_namespace: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    stack_settings: dict[str, str],
) -> Iterator[RunningStack]:
    """The whole stack as real processes, on this session's servers."""
    namespace, database_url = module_namespace
    workdir = tmp_path_factory.mktemp("stack")
    env = {
        **stack_env(servers.nats_url, database_url, servers.redis_url, namespace),
        **stack_settings,
    }
    running = start_stack(env, workdir / "stack.log", workdir)
    yield running
    code = running.stop()
    assert code == 0, running.log()
    assert running.survivors() == [], "processes left behind after Ctrl-C"
    assert "a long passphrase" not in running.log(), "a password reached the logs"
    assert running.leaked_secrets() == [], "a credential reached the logs"


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target()
    yield server
    server.close()


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    server = WebhookSink()
    yield server
    server.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
