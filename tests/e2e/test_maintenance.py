"""Maintenance windows end to end: a broken target in a window pages nobody."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.peers import Target, WebhookSink
from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import alert_to_webhook, sign_up_and_log_in, wait_for_status

pytestmark = pytest.mark.e2e


def test_a_monitor_in_an_active_window_is_in_maintenance_and_alerts_nothing(
    stack: RunningStack, target: Target, sink: WebhookSink
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    alert_to_webhook(client, auth, sink.url)
    monitor = client.post(
        "/api/v1/monitors",
        json={
            "name": "db",
            "type": "http",
            "url": target.url,
            "interval": 1,
            "timeout": 0.8,
            "failure_threshold": 2,
            "recovery_threshold": 1,
        },
        headers=auth,
    ).json()
    wait_for_status(client, auth, monitor["id"], "up", timeout=20)

    window = client.post(
        "/api/v1/maintenance-windows",
        json={"title": "db upgrade", "strategy": "manual", "monitor_ids": [monitor["id"]]},
        headers=auth,
    )
    assert window.status_code == 201, window.text
    assert window.json()["active"] is False
    activated = client.post(
        f"/api/v1/maintenance-windows/{window.json()['id']}/activate", headers=auth
    )
    assert activated.json()["in_force"] is True

    wait_for_status(client, auth, monitor["id"], "maintenance", timeout=15)
    target.status = 503
    time.sleep(4)  # failing checks inside the window
    assert (
        client.get(f"/api/v1/monitors/{monitor['id']}", headers=auth).json()["status"]
        == "maintenance"
    )
    assert sink.received == []

    client.post(f"/api/v1/maintenance-windows/{window.json()['id']}/deactivate", headers=auth)
    wait_for_status(client, auth, monitor["id"], "down", timeout=20)
    assert [body["event"] for body in sink.wait_for(1, timeout=10)] == ["down"]


def test_a_window_with_an_unusable_schedule_is_refused(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    response = client.post(
        "/api/v1/maintenance-windows",
        json={
            "title": "nightly",
            "strategy": "cron",
            "cron": "at 3am",
            "timezone": "Europe/Berlin",
        },
        headers=auth,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cron"
