"""The two promises users care most about, measured on the real stack.

One blip in a hundred checks pages nobody; a real two-minute outage gives
exactly one "down" and one "recovered", each on time.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.peers import Target, WebhookSink
from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import alert_to_webhook, sign_up_and_log_in, wait_for_status

pytestmark = pytest.mark.e2e


def watch(client: httpx.Client, auth: dict[str, str], url: str, sink: WebhookSink) -> str:
    alert_to_webhook(client, auth, sink.url)
    monitor = client.post(
        "/api/v1/monitors",  # default thresholds: 3 failures to go down, 2 successes back
        json={"name": "shop", "type": "http", "url": url, "interval": 1, "timeout": 0.8},
        headers=auth,
    ).json()
    wait_for_status(client, auth, monitor["id"], "up", timeout=20)
    return str(monitor["id"])


def test_one_failure_in_a_hundred_checks_sends_no_alert(
    stack: RunningStack, target: Target, sink: WebhookSink
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    monitor_id = watch(client, auth, target.url, sink)
    start = target.hits
    target.fail_every = 100
    deadline = time.monotonic() + 180
    while target.hits - start < 100 and time.monotonic() < deadline:
        time.sleep(1)
    target.fail_every = 0
    assert target.hits - start >= 100
    assert target.failures_served >= 1
    assert client.get(f"/api/v1/monitors/{monitor_id}", headers=auth).json()["status"] == "up"
    assert sink.received == []


def test_a_two_minute_outage_gives_exactly_one_down_and_one_recovery(
    stack: RunningStack, target: Target, sink: WebhookSink
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    monitor_id = watch(client, auth, target.url, sink)

    target.status = 500
    outage_started = time.monotonic()
    sink.wait_for(1, timeout=30)
    down_after = time.monotonic() - outage_started
    time.sleep(max(0.0, 120 - (time.monotonic() - outage_started)))
    target.status = 200
    recovered_at = time.monotonic()
    sink.wait_for(2, timeout=30)
    recovered_after = time.monotonic() - recovered_at
    time.sleep(3)

    assert sink.events() == ["down", "recovered"]
    assert all(body["monitor"]["id"] == monitor_id for body in sink.received)
    # 3 failures at 1 s intervals, plus delivery; 2 successes to recover.
    assert down_after < 10, down_after
    assert recovered_after < 10, recovered_after
