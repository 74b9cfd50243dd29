"""Hostile time ranges on every route that takes one: a clear 422 at once, never a
query left running (year 1 once reached PostgreSQL as -infinity and a
``generate_series`` without end), and a statement that runs too long is
cancelled by the server and answered 503."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in
from tests.infra import Servers

pytestmark = pytest.mark.e2e
STATEMENT_TIMEOUT = 3  # seconds, for this module's stack
QUICK = 10.0  # seconds a refusal may take on a loaded machine; a runaway query never ends

# (path, the parameters it needs besides the range)
ROUTES: list[tuple[str, dict[str, str]]] = [
    ("/api/v1/monitors/{id}/checks", {}),
    ("/api/v1/monitors/{id}/stats", {"period": "hour"}),
    ("/api/v1/monitors/{id}/stats", {"period": "day"}),
    ("/api/v1/monitors/{id}/uptime", {}),
    ("/api/v1/monitors/{id}/response-times", {}),
    ("/api/v1/monitors/{id}/response-times", {"resolution": "minute"}),
    ("/api/v1/reports/sla", {"monitor_id": "{id}"}),
]


def request(
    account: dict[str, Any], route: tuple[str, dict[str, str]]
) -> tuple[str, dict[str, str]]:
    """(path, parameters) of ``route`` for the account's monitor."""
    path, needs = route
    return path.format(id=account["id"]), {k: v.format(id=account["id"]) for k, v in needs.items()}


NOW = datetime.now(UTC)
HOSTILE: dict[str, dict[str, str]] = {
    "year 1": {"since": "0001-01-01T00:00:00Z", "until": "0001-01-02T00:00:00Z"},
    "year 1 east of UTC": {"since": "0001-01-01T00:00:00+05:00"},
    "year 9999": {"since": "9999-12-30T00:00:00Z", "until": "9999-12-31T23:59:59.999999Z"},
    "year 9999 west of UTC": {"until": "9999-12-31T23:59:59-05:00"},
    "epoch 0": {"since": "1970-01-01T00:00:00Z", "until": "1970-01-02T00:00:00Z"},
    "epoch 0 as a number": {"since": "0", "until": "86400"},
    "negative seconds": {"since": "-62135596800", "until": "-62135510400"},
    "past year 9999 in seconds": {"until": "253402300800"},
    "until before since": {
        "since": (NOW - timedelta(hours=1)).isoformat(),
        "until": (NOW - timedelta(hours=2)).isoformat(),
    },
    "far future": {"since": (NOW + timedelta(days=30)).isoformat()},
    "not a time": {"since": "yesterday"},
    "huge range": {"since": "2000-01-01T00:00:00Z", "until": NOW.isoformat()},
}


@pytest.fixture(scope="module")
def stack_settings() -> dict[str, str]:
    return {"PHOENIX_DB_STATEMENT_TIMEOUT": str(STATEMENT_TIMEOUT)}


@pytest.fixture(scope="module")
def account(stack: RunningStack) -> dict[str, Any]:
    """An account with one (paused) monitor: no check writes to the history meanwhile."""
    client = httpx.Client(base_url=stack.base_url, timeout=QUICK)
    auth = sign_up_and_log_in(client)
    monitor = client.post(
        "/api/v1/monitors",
        json={"name": "ranged", "type": "http", "url": "http://127.0.0.1:9/", "interval": 3600},
        headers=auth,
    )
    assert monitor.status_code == 201, monitor.text
    paused = client.post(f"/api/v1/monitors/{monitor.json()['id']}/pause", headers=auth)
    assert paused.status_code == 200, paused.text
    return {"client": client, "auth": auth, "id": monitor.json()["id"]}


@pytest.fixture
async def database(
    servers: Servers, module_namespace: tuple[str, str]
) -> AsyncIterator[asyncpg.Connection]:
    """This module's database, seen from outside the stack; any query of the stack's
    still running at the end is cancelled, so a failing test cannot flood the server."""
    conn = await asyncpg.connect(module_namespace[1])
    try:
        yield conn
    finally:
        await conn.execute(
            "select pg_cancel_backend(pid) from pg_stat_activity where datname ="
            " current_database() and pid <> pg_backend_pid() and state = 'active'"
        )
        await conn.close()


async def long_running(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "select query from pg_stat_activity where datname = current_database()"
        " and pid <> pg_backend_pid() and state = 'active'"
        " and now() - query_start > interval '1 second'"
    )
    return [row["query"] for row in rows]


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_a_hostile_range_is_refused_at_once_on_every_route(
    account: dict[str, Any], database: asyncpg.Connection, case: str
) -> None:
    client, auth = account["client"], account["auth"]
    params = HOSTILE[case]
    for route in ROUTES:
        path, needs = request(account, route)
        if path.endswith("/checks") and case == "huge range":
            continue  # a paginated list: any span within the bounds is fine
        started = time.monotonic()
        try:
            answer = client.get(path, params=needs | params, headers=auth)
        except httpx.TimeoutException:
            pytest.fail(f"{path} {params}: no answer within {QUICK} s")
        assert time.monotonic() - started < QUICK
        assert answer.status_code == 422, f"{path} {params}: {answer.status_code} {answer.text}"
        assert answer.headers["content-type"].startswith("application/problem+json")
        fields = {error["field"] for error in answer.json()["errors"]}
        assert fields, answer.text
        assert fields <= {"since", "until"}, answer.text
    assert await long_running(database) == []


def test_ranges_within_the_bounds_still_answer(account: dict[str, Any]) -> None:
    client, auth = account["client"], account["auth"]
    now = datetime.now(UTC)  # not the module's NOW: collection may be half an hour ago
    naive = (now - timedelta(hours=3)).replace(tzinfo=None).isoformat()  # read as UTC
    for route in ROUTES:
        path, needs = request(account, route)
        answer = client.get(path, params=needs | {"since": naive}, headers=auth)
        assert answer.status_code == 200, f"{route}: {answer.text}"
    stats = client.get(
        f"/api/v1/monitors/{account['id']}/stats",
        params={
            "since": f"{(now - timedelta(hours=3)).timestamp():.0f}",
            "until": f"{now.timestamp():.0f}",
        },
        headers=auth,
    )
    assert stats.status_code == 200, stats.text
    assert 3 <= len(stats.json()["buckets"]) <= 4


@pytest.fixture
async def locked_rollups(module_namespace: tuple[str, str]) -> AsyncIterator[None]:
    """The day rollups locked by another session, so reading them blocks."""
    conn = await asyncpg.connect(module_namespace[1])
    transaction = conn.transaction()
    await transaction.start()
    await conn.execute("lock table gateway.check_rollups_day in access exclusive mode")
    try:
        yield
    finally:
        await transaction.rollback()
        await conn.close()


async def test_a_query_past_the_statement_timeout_answers_503(
    account: dict[str, Any], locked_rollups: None
) -> None:
    client, auth = account["client"], account["auth"]
    started = time.monotonic()
    try:
        answer = client.get(
            f"/api/v1/monitors/{account['id']}/stats",
            params={"period": "day"},
            headers=auth,
            timeout=STATEMENT_TIMEOUT + QUICK,
        )
    except httpx.TimeoutException:
        pytest.fail("the blocked query was never cancelled")
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert time.monotonic() - started >= STATEMENT_TIMEOUT - 0.5
    # The pool is not held: the next request is answered normally.
    assert client.get(f"/api/v1/monitors/{account['id']}", headers=auth).status_code == 200
