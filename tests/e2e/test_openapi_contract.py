"""Schemathesis over the gateway's own OpenAPI document: no request it generates
may make the server fail (HTTP 5xx)."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in

pytestmark = pytest.mark.e2e
EXAMPLES_PER_OPERATION = 15


def test_no_generated_request_makes_the_server_fail(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    session = sign_up_and_log_in(client)
    # An API key, not the session: generated requests include a logout.
    key = client.post(
        "/api/v1/api-keys",
        json={"name": "fuzz", "scopes": ["read", "write", "admin"]},
        headers=session,
    ).json()["key"]
    auth = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/schema/openapi.json")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(base_url=stack.base_url, headers=auth)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                where = f"{case.method} {case.formatted_path}"
                failures.append(f"{where} -> {response.status_code}: {case.body!r:.200}")

        exercise()
    assert operations >= 20, "the OpenAPI document lists fewer operations than the API has"
    assert sum(statuses.values()) >= operations * 5, statuses  # it really exercised them
    print(f"{operations} operations, responses by status: {dict(sorted(statuses.items()))}")
    assert failures == [], "\n".join(failures[:20])
