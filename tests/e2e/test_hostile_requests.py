"""Bad input from clients: always a 4xx problem document, never a 500, nothing leaked."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in

pytestmark = pytest.mark.e2e

WRITE_ENDPOINTS = [
    ("POST", "/api/v1/monitors"),
    ("POST", "/api/v1/notification-channels"),
    ("POST", "/api/v1/alert-rules"),
    ("POST", "/api/v1/maintenance-windows"),
    ("POST", "/api/v1/tags"),
    ("POST", "/api/v1/api-keys"),
    ("POST", "/api/v1/account/change-password"),
    ("POST", "/api/v1/account/two-factor"),
    ("POST", "/api/v1/account/two-factor/confirm"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/signup"),
]
VALID_MONITOR: dict[str, Any] = {
    "name": "x",
    "type": "http",
    "url": "https://example.com",
    "interval": 60,
}


def malformed_bodies(rng: random.Random, count: int) -> list[bytes]:
    """Truncated JSON, wrong types, huge numbers, deep nesting, invalid UTF-8, odd values."""
    base = json.dumps(VALID_MONITOR).encode()
    fixed = [
        b"",
        b"{",
        b"}",
        b"[]",
        b"null",
        b"true",
        b"0",
        b'"text"',
        b'{"name":}',
        b'{"name": 1e400}',
        b'{"interval": 1e400}',
        b'{"interval": -1}',
        b'{"interval": 99999999999999999999999}',
        b"\xff\xfe\xfd",
        b'{"name": "\xc3\x28"}',
        b'{"name": "\\ud800"}',
        b"[" * 10_000,
        b'{"a":' * 5_000,
        b'{"name": null, "type": null}',
        b'{"type": "http", "url": {"nested": [1, 2, 3]}}',
        b'{"name": "x", "type": "http", "url": "https://example.com", "headers": {"a": 1}}',
        b'{"name": "x", "type": "http", "url": "https://example.com", "regions": "eu"}',
        b'{"name": "x", "type": "http", "url": "https://x.co", "accepted_status_codes": [200]}',
        b'{"name": "' + b"x" * 300 + b'", "type": "http"}',
        b'{"__proto__": {"admin": true}}',
        b'{"organization_id": "someone-else"}',
    ]
    bodies = list(fixed)
    while len(bodies) < count:
        cut = rng.randrange(len(base))
        mutated = bytearray(base[:cut] if rng.random() < 0.5 else base)
        for _ in range(rng.randrange(1, 4)):
            if mutated:
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        bodies.append(bytes(mutated))
    return bodies[:count]


def test_a_thousand_malformed_bodies_get_4xx_problems_and_no_5xx(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=30)
    auth = sign_up_and_log_in(client)
    rng = random.Random(20261124)
    bodies = malformed_bodies(rng, 1000)
    statuses: dict[int, int] = {}
    for n, body in enumerate(bodies):
        method, path = WRITE_ENDPOINTS[n % len(WRITE_ENDPOINTS)]
        response = client.request(
            method, path, content=body, headers={**auth, "Content-Type": "application/json"}
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (
            path,
            body[:200],
            response.status_code,
            response.text[:300],
        )
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json"), (
                response.text[:200]
            )
    assert sum(count for code, count in statuses.items() if 400 <= code < 500) >= 900, statuses


def test_an_eleven_megabyte_body_is_refused_with_413(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=30)
    auth = sign_up_and_log_in(client)
    body = b'{"name": "' + b"x" * (11 * 1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/monitors", content=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def other_users_resources(client: httpx.Client, auth: dict[str, str]) -> dict[str, str]:
    """Create one of everything for a user; return path → id."""
    made: dict[str, str] = {}
    monitor = client.post("/api/v1/monitors", json=VALID_MONITOR, headers=auth).json()
    made["/api/v1/monitors"] = monitor["id"]
    channel = client.post(
        "/api/v1/notification-channels",
        json={"name": "c", "type": "webhook", "config": {"url": "https://hooks.example.com/x"}},
        headers=auth,
    ).json()
    made["/api/v1/notification-channels"] = channel["id"]
    rule = client.post(
        "/api/v1/alert-rules",
        json={"name": "r", "event": "down", "notification_channel_ids": [channel["id"]]},
        headers=auth,
    ).json()
    made["/api/v1/alert-rules"] = rule["id"]
    window = client.post("/api/v1/maintenance-windows", json={"title": "w"}, headers=auth).json()
    made["/api/v1/maintenance-windows"] = window["id"]
    tag = client.post(
        "/api/v1/tags", json={"name": "prod", "color": "#ff0000"}, headers=auth
    ).json()
    made["/api/v1/tags"] = tag["id"]
    key = client.post("/api/v1/api-keys", json={"name": "k"}, headers=auth).json()
    made["/api/v1/api-keys"] = key["id"]
    return made


def test_no_user_can_read_change_or_delete_another_users_resources(stack: RunningStack) -> None:
    alice = httpx.Client(base_url=stack.base_url, timeout=30)
    bob = httpx.Client(base_url=stack.base_url, timeout=30)
    alice_auth, bob_auth = sign_up_and_log_in(alice), sign_up_and_log_in(bob)
    owned = other_users_resources(alice, alice_auth)
    patches = {
        "/api/v1/monitors": {"name": "mine"},
        "/api/v1/maintenance-windows": {"title": "mine"},
        "/api/v1/tags": {"name": "mine"},
        "/api/v1/notification-channels": {"name": "mine"},
        "/api/v1/alert-rules": {"name": "mine"},
    }
    for path, item in owned.items():
        url = f"{path}/{item}"
        if path != "/api/v1/api-keys":
            assert bob.get(url, headers=bob_auth).status_code == 404, url
        if path in patches:
            assert bob.patch(url, json=patches[path], headers=bob_auth).status_code == 404, url
        assert bob.delete(url, headers=bob_auth).status_code == 404, url
        listing = bob.get(path, headers=bob_auth).json()
        items = listing["items"] if isinstance(listing, dict) else listing
        assert all(entry["id"] != item for entry in items), path
    for action in ("pause", "resume"):
        monitor = owned["/api/v1/monitors"]
        assert bob.post(f"/api/v1/monitors/{monitor}/{action}", headers=bob_auth).status_code == 404
    window = owned["/api/v1/maintenance-windows"]
    assert (
        bob.post(f"/api/v1/maintenance-windows/{window}/activate", headers=bob_auth).status_code
        == 404
    )
    # Her organization is as invisible as its contents.
    org = alice.get("/api/v1/account/me", headers=alice_auth).json()["organization_id"]
    for suffix in ("", "/members", "/invitations"):
        url = f"/api/v1/organizations/{org}{suffix}"
        assert bob.get(url, headers=bob_auth).status_code == 404, url
    assert (
        bob.patch(f"/api/v1/organizations/{org}", json={"name": "x"}, headers=bob_auth).status_code
        == 404
    )
    invite = bob.post(
        f"/api/v1/organizations/{org}/invitations",
        json={"email": "b@example.com"},
        headers=bob_auth,
    )
    assert invite.status_code == 404
    assert (
        bob.get("/api/v1/monitors", headers={**bob_auth, "X-Phoenix-Organization": org}).status_code
        == 403
    )
    # Alice's things are untouched.
    for path, item in owned.items():
        if path != "/api/v1/api-keys":
            assert alice.get(f"{path}/{item}", headers=alice_auth).status_code == 200, path


def test_unknown_ids_are_404_not_500(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=30)
    auth = sign_up_and_log_in(client)
    for path in (
        "monitors",
        "notification-channels",
        "alert-rules",
        "maintenance-windows",
        "tags",
        "incidents",
    ):
        assert client.get(f"/api/v1/{path}/{uuid.uuid4()}", headers=auth).status_code == 404, path
        assert client.get(f"/api/v1/{path}/not-a-uuid", headers=auth).status_code in (400, 404), (
            path
        )
