"""A check that cannot run is a `down` result with a reason, for every check type.

These specs were stored before the edge refused them (or arrived over NATS from
anywhere): a job that raised was retried, dead-lettered and its monitor never judged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from phoenix_contracts.checks import CheckCompleted, CheckJob
from phoenix_executor.checks.base import CheckContext
from phoenix_executor.checks.registry import CHECKS
from phoenix_executor.handlers import ExecutorDeps, handle_job, run_check

from tests.checks.peers import Peer, make_spec

UNRUNNABLE: list[tuple[str, str, dict[str, Any]]] = [
    ("tls-port-out-of-range", "tls", {"url": "https://h:99999/"}),
    ("tls-unclosed-bracket", "tls", {"url": "https://[::1/"}),
    ("tls-nul-host", "tls", {"hostname": "exa\x00mple.com", "port": 443}),
    ("tls-port-out-of-range-field", "tls", {"hostname": "localhost", "port": 99999}),
    ("http-unclosed-bracket", "http", {"url": "http://[::1/"}),
    ("http-port-out-of-range", "http", {"url": "http://h:99999/"}),
    ("keyword-nul-in-url", "keyword", {"url": "http://h/\x00", "keyword": "x"}),
    ("json-no-host", "json", {"url": "http:///x", "json_path": "$.a"}),
    ("tcp-port-out-of-range", "tcp", {"hostname": "localhost", "port": 99999}),
    ("tcp-nul-host", "tcp", {"hostname": "local\x00host", "port": 80}),
    (
        "dns-resolver-port-out-of-range",
        "dns",
        {"hostname": "x.test", "dns_resolver": "127.0.0.1:99999"},
    ),
    ("dns-empty-label", "dns", {"hostname": "a..b"}),
    ("ping-nul-host", "ping", {"hostname": "local\x00host"}),
]


def job(kind: str, options: dict[str, Any]) -> CheckJob:
    now = datetime.now(UTC)
    return CheckJob(
        job_id="j",
        monitor_id="m",
        organization_id="o",
        region="default",
        due_at=now,
        deadline=now + timedelta(minutes=1),
        spec=make_spec(kind, **options),
    )


async def _ignore(_: object) -> None:
    return None


@pytest.mark.parametrize(
    ("kind", "options"), [r[1:] for r in UNRUNNABLE], ids=[r[0] for r in UNRUNNABLE]
)
async def test_a_check_that_cannot_run_is_down_with_a_reason(
    kind: str, options: dict[str, Any], guarded_ctx: CheckContext
) -> None:
    outcome = await run_check(job(kind, options), ExecutorDeps(checks=guarded_ctx, publish=_ignore))
    assert outcome.outcome == "down", outcome
    assert outcome.error_class
    assert outcome.message


def test_every_check_type_is_covered_above() -> None:
    assert {kind for _, kind, _ in UNRUNNABLE} >= set(CHECKS)


async def test_a_servers_nul_reaches_the_result_as_a_replacement_character(
    ctx: CheckContext, http_peer: Peer
) -> None:
    # The result is stored by the history writer: a NUL there would stop it.
    published: list[CheckCompleted] = []

    async def publish(result: CheckCompleted) -> None:
        published.append(result)

    await handle_job(
        job("http", {"url": http_peer.url("/nul")}), ExecutorDeps(checks=ctx, publish=publish)
    )
    [result] = published
    assert result.outcome == "down"
    assert result.body_excerpt == "bro\ufffdken"
