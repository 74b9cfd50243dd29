"""Push monitors end to end: beats keep a monitor up, silence takes it down."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in, wait_for_status

pytestmark = pytest.mark.e2e


def test_a_push_monitor_is_up_while_beats_arrive_and_down_when_they_stop(
    stack: RunningStack,
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    created = client.post(
        "/api/v1/monitors",
        json={
            "name": "nightly backup",
            "type": "push",
            "interval": 2,
            "timeout": 1,
            "grace": 1,
            "failure_threshold": 1,
            "recovery_threshold": 1,
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    monitor = created.json()
    token = monitor["push_token"]
    assert len(token) >= 24

    for _ in range(3):
        beat = httpx.get(f"{stack.base_url}/api/v1/push/{token}", params={"msg": "ok", "ping": 12})
        assert beat.status_code == 200, beat.text
        time.sleep(0.5)
    wait_for_status(client, auth, monitor["id"], "up", timeout=10)

    down = wait_for_status(client, auth, monitor["id"], "down", timeout=20)  # silence
    assert "no heartbeat" in down["status_reason"]

    assert httpx.post(f"{stack.base_url}/api/v1/push/{token}").status_code == 200
    wait_for_status(client, auth, monitor["id"], "up", timeout=10)


def test_a_reported_failure_counts_as_a_failed_check(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    monitor = client.post(
        "/api/v1/monitors",
        json={"name": "job", "type": "push", "interval": 60, "timeout": 1, "failure_threshold": 1},
        headers=auth,
    ).json()
    url = f"{stack.base_url}/api/v1/push/{monitor['push_token']}"
    assert httpx.get(url, params={"status": "down", "msg": "disk full"}).status_code == 200
    down = wait_for_status(client, auth, monitor["id"], "down", timeout=10)
    assert "disk full" in down["status_reason"]


def test_an_unknown_token_is_a_plain_404(stack: RunningStack) -> None:
    for token in ("x" * 32, "../../etc/passwd", "short"):
        response = httpx.get(f"{stack.base_url}/api/v1/push/{token}")
        assert response.status_code == 404


def test_a_push_token_cannot_be_chosen_by_the_caller(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    response = client.post(
        "/api/v1/monitors",
        json={"name": "job", "type": "push", "interval": 60, "push_token": "mine-mine-mine-mine"},
        headers=auth,
    )
    assert response.status_code == 400
