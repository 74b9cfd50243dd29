"""The product's promise, end to end through all six services as real processes.

A user signs up, logs in, adds a webhook channel, alert rules and a monitor;
the scheduler, executor, evaluator and notifier do the rest. We observe the
outcome where a user would: the API and the webhook receiver.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.e2e.peers import Target, WebhookSink
from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e


def sign_up_and_log_in(client: httpx.Client) -> dict[str, str]:
    username = "u" + uuid.uuid4().hex[:10]
    signup = client.post(
        "/api/v1/auth/signup",
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": "a long passphrase",
        },
    )
    assert signup.status_code == 201, signup.text
    assert set(signup.json()) == {"id", "username", "email"}
    login = client.post(
        "/api/v1/auth/login", json={"username": username, "password": "a long passphrase"}
    )
    assert login.status_code == 200, login.text
    assert "phoenix_session" in login.cookies
    assert "httponly" in login.headers["set-cookie"].lower()
    return {"Authorization": f"Bearer {login.json()['session_token']}"}


def alert_to_webhook(client: httpx.Client, auth: dict[str, str], url: str) -> str:
    """A webhook channel, and rules sending it every down and recovery: its id."""
    channel = client.post(
        "/api/v1/notification-channels",
        json={"name": "hook", "type": "webhook", "config": {"url": url}},
        headers=auth,
    )
    assert channel.status_code == 201, channel.text
    for event in ("down", "recovered"):
        rule = client.post(
            "/api/v1/alert-rules",
            json={
                "name": event,
                "event": event,
                "scope": "all",
                "notification_channel_ids": [channel.json()["id"]],
            },
            headers=auth,
        )
        assert rule.status_code == 201, rule.text
    return str(channel.json()["id"])


def wait_for_status(
    client: httpx.Client, auth: dict[str, str], monitor_id: str, status: str, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/monitors/{monitor_id}", headers=auth).json()
        if body["status"] == status:
            return body
        time.sleep(0.2)
    raise AssertionError(f"monitor stayed {body.get('status')!r}, wanted {status!r}")


def test_a_monitor_goes_up_down_and_recovers_and_the_webhook_says_so(
    stack: RunningStack, target: Target, sink: WebhookSink
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)

    alert_to_webhook(client, auth, sink.url + "hook")

    created = client.post(
        "/api/v1/monitors",
        json={"name": "shop", "type": "http", "url": target.url, "interval": 1, "timeout": 0.8},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    monitor = created.json()
    assert monitor["status"] == "pending"
    assert client.get("/api/v1/monitors", headers=auth).json()["items"][0]["id"] == monitor["id"]

    wait_for_status(client, auth, monitor["id"], "up", timeout=20)
    assert sink.received == []  # pending → up is not news

    target.status = 500
    down = wait_for_status(client, auth, monitor["id"], "down", timeout=30)
    assert "500" in down["status_reason"]
    assert sink.wait_for(1, timeout=15)[0]["event"] == "down"

    target.status = 200
    wait_for_status(client, auth, monitor["id"], "up", timeout=30)
    received = sink.wait_for(2, timeout=15)
    assert [body["event"] for body in received] == ["down", "recovered"]
    first = received[0]
    assert first["monitor"] == {"id": monitor["id"], "name": "shop", "url": target.url}
    assert first["status"] == "down"
    assert first["occurred_at"]

    time.sleep(2)  # nothing more arrives: one alert per change
    assert sink.events() == ["down", "recovered"]


def test_a_failed_check_brings_the_retries_sooner_than_the_next_slot(
    stack: RunningStack, target: Target
) -> None:
    # The executor copies a failed check to the scheduler's hint subject; the
    # scheduler then re-checks after retry_interval (1 s), not the interval (10 s).
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    created = client.post(
        "/api/v1/monitors",
        json={
            "name": "retried",
            "type": "http",
            "url": target.url,
            "interval": 10,
            "timeout": 0.8,
            "retry_interval": 1,
            "failure_threshold": 3,
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    monitor = created.json()
    wait_for_status(client, auth, monitor["id"], "up", timeout=20)
    target.status = 500
    wait_for_status(client, auth, monitor["id"], "down", timeout=30)
    deadline = time.monotonic() + 5
    downs: list[dict[str, Any]] = []
    while len(downs) < 3 and time.monotonic() < deadline:  # history trails by ~0.25 s
        downs = client.get(
            f"/api/v1/monitors/{monitor['id']}/checks",
            params={"outcome": "down"},
            headers=auth,
        ).json()["items"]
        time.sleep(0.2)
    assert len(downs) >= 3
    times = sorted(datetime.fromisoformat(c["checked_at"]).timestamp() for c in downs[:3])
    assert times[-1] - times[0] < 6, times  # slots alone would put them 20 s apart


def test_requests_without_a_session_are_refused(stack: RunningStack) -> None:
    response = httpx.get(stack.base_url + "/api/v1/monitors")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    forged = httpx.get(
        stack.base_url + "/api/v1/monitors", headers={"Authorization": "Bearer forged"}
    )
    assert forged.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (
            {"name": "x", "type": "http", "url": "https://example.com", "interval": "often"},
            400,
            "interval",
        ),
        (
            {"name": "x", "type": "http", "url": "https://example.com", "owner_id": "me"},
            400,
            "owner_id",
        ),
        ({"name": "x", "type": "carrier-pigeon", "url": "https://example.com"}, 400, "type"),
        ({"name": "x", "type": "http", "url": "ftp://example.com"}, 422, "url"),
        (
            {
                "name": "x",
                "type": "http",
                "url": "https://example.com",
                "interval": 60,
                "timeout": 90,
            },
            422,
            "timeout",
        ),
        ({"type": "http", "url": "https://example.com"}, 400, "name"),
    ],
    ids=[
        "wrong-type",
        "unknown-field",
        "unknown-monitor-type",
        "bad-scheme",
        "timeout-over-interval",
        "missing-name",
    ],
)
def test_bad_monitor_bodies_get_a_problem_naming_the_field(
    stack: RunningStack, body: dict[str, Any], status: int, field: str
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    response = client.post("/api/v1/monitors", json=body, headers=auth)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in str(problem.get("errors", "")) + problem["detail"]


def test_malformed_json_is_a_400_not_a_500(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    for raw in (b"{", b"\xff\xfe", b"[1,2", b'{"name": 1e400}', b"null"):
        response = client.post(
            "/api/v1/monitors", content=raw, headers={**auth, "Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (raw, response.status_code, response.text)


def test_a_monitor_that_is_paused_resumed_and_deleted_reads_back_each_time(
    stack: RunningStack, target: Target
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    monitor = client.post(
        "/api/v1/monitors",
        json={"name": "m", "type": "http", "url": target.url, "interval": 5, "timeout": 1},
        headers=auth,
    ).json()
    paused = client.post(f"/api/v1/monitors/{monitor['id']}/pause", headers=auth)
    assert paused.json()["paused"] is True
    assert paused.json()["status"] == "paused"
    resumed = client.post(f"/api/v1/monitors/{monitor['id']}/resume", headers=auth)
    assert resumed.json()["paused"] is False
    renamed = client.patch(
        f"/api/v1/monitors/{monitor['id']}", json={"name": "renamed"}, headers=auth
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "renamed"
    assert client.delete(f"/api/v1/monitors/{monitor['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/monitors/{monitor['id']}", headers=auth).status_code == 404


def test_one_users_monitor_is_invisible_to_another(stack: RunningStack, target: Target) -> None:
    alice = httpx.Client(base_url=stack.base_url, timeout=20)
    bob = httpx.Client(base_url=stack.base_url, timeout=20)
    alice_auth, bob_auth = sign_up_and_log_in(alice), sign_up_and_log_in(bob)
    monitor = alice.post(
        "/api/v1/monitors",
        json={"name": "private", "type": "http", "url": target.url, "interval": 5, "timeout": 1},
        headers=alice_auth,
    ).json()
    assert bob.get(f"/api/v1/monitors/{monitor['id']}", headers=bob_auth).status_code == 404
    assert bob.delete(f"/api/v1/monitors/{monitor['id']}", headers=bob_auth).status_code == 404
    assert bob.get("/api/v1/monitors", headers=bob_auth).json()["items"] == []


def test_every_answer_carries_a_request_id_and_a_sane_one_is_kept(stack: RunningStack) -> None:
    kept = httpx.get(stack.base_url + "/healthz", headers={"X-Request-Id": "trace-42"})
    assert kept.headers["x-request-id"] == "trace-42"
    replaced = httpx.get(stack.base_url + "/healthz", headers={"X-Request-Id": "bad id\twith tabs"})
    assert replaced.headers["x-request-id"] not in ("", "bad id\twith tabs")


def test_a_body_over_the_limit_is_refused_with_413(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    huge = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    response = client.post(
        "/api/v1/monitors", content=huge, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
