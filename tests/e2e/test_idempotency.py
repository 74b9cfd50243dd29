"""Idempotency-Key: a retried POST gets the first answer instead of a second monitor,
only ever for the caller who is authenticated now, and never a stored credential."""

from __future__ import annotations

import base64
import time
import uuid

import httpx
import pytest
import redis

from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in
from tests.infra import Servers

pytestmark = pytest.mark.e2e
MONITOR = {"name": "once", "type": "http", "url": "https://example.com", "interval": 60}
PASSWORD = "a long passphrase"


def test_a_retried_create_with_the_same_key_creates_one_monitor(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    headers = {**auth, "Idempotency-Key": "create-once-1"}
    first = client.post("/api/v1/monitors", json=MONITOR, headers=headers)
    again = client.post("/api/v1/monitors", json=MONITOR, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert len(client.get("/api/v1/monitors", headers=auth).json()["items"]) == 1


def test_the_same_key_with_another_body_is_refused(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    headers = {**auth, "Idempotency-Key": "create-once-2"}
    assert client.post("/api/v1/monitors", json=MONITOR, headers=headers).status_code == 201
    other = client.post("/api/v1/monitors", json={**MONITOR, "name": "other"}, headers=headers)
    assert other.status_code == 422


def test_keys_are_per_caller_and_failures_are_not_remembered(stack: RunningStack) -> None:
    alice = httpx.Client(base_url=stack.base_url, timeout=20)
    bob = httpx.Client(base_url=stack.base_url, timeout=20)
    alice_auth, bob_auth = sign_up_and_log_in(alice), sign_up_and_log_in(bob)
    key = {"Idempotency-Key": "shared-key"}
    a = alice.post("/api/v1/monitors", json=MONITOR, headers={**alice_auth, **key})
    b = bob.post("/api/v1/monitors", json=MONITOR, headers={**bob_auth, **key})
    assert a.json()["id"] != b.json()["id"]
    bad = alice.post(
        "/api/v1/monitors",
        json={**MONITOR, "interval": 1},
        headers={**alice_auth, "Idempotency-Key": "k3"},
    )
    assert bad.status_code == 422
    good = alice.post(
        "/api/v1/monitors",
        json={**MONITOR, "interval": 1},
        headers={**alice_auth, "Idempotency-Key": "k3"},
    )
    assert good.status_code == 422  # recomputed, not replayed: the rule still applies
    assert good.headers.get("idempotent-replayed") is None


def test_a_replay_after_logout_is_refused(stack: RunningStack) -> None:
    auth = sign_up_and_log_in(httpx.Client(base_url=stack.base_url, timeout=20))
    # Exactly the same headers before and after the logout (no cookie jar in between).
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    headers = {**auth, "Idempotency-Key": "before-logout"}
    assert client.post("/api/v1/monitors", json=MONITOR, headers=headers).status_code == 201
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    # The gateway forgets the session when auth says so; give that message a moment.
    deadline = time.monotonic() + 6
    again = client.post("/api/v1/monitors", json=MONITOR, headers=headers)
    while again.status_code != 401 and time.monotonic() < deadline:
        time.sleep(0.2)
        again = client.post("/api/v1/monitors", json=MONITOR, headers=headers)
    assert again.status_code == 401, again.text
    assert again.headers.get("idempotent-replayed") is None


def test_login_and_signup_are_never_answered_from_the_cache(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    username = "u" + uuid.uuid4().hex[:10]
    signup = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    key = {"Idempotency-Key": "signup-" + username}
    refused = client.post("/api/v1/auth/signup", json=signup, headers=key)
    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert refused.headers.get("x-request-id")  # answered like any other problem
    assert client.post("/api/v1/auth/signup", json=signup).status_code == 201
    login = {"username": username, "password": PASSWORD}
    for _ in range(2):
        answer = client.post("/api/v1/auth/login", json=login, headers=key)
        assert answer.status_code == 400, answer.text
        assert "session_token" not in answer.text
        assert answer.headers.get("idempotent-replayed") is None


def test_the_same_key_in_two_organizations_creates_two_monitors(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    team = client.post("/api/v1/organizations", json={"name": "team"}, headers=auth)
    assert team.status_code == 201, team.text
    key = {"Idempotency-Key": "one-key-two-orgs"}
    mine = client.post("/api/v1/monitors", json=MONITOR, headers={**auth, **key})
    theirs = client.post(
        "/api/v1/monitors",
        json=MONITOR,
        headers={**auth, **key, "X-Phoenix-Organization": team.json()["id"]},
    )
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert theirs.headers.get("idempotent-replayed") is None
    assert mine.json()["id"] != theirs.json()["id"]
    in_team = client.get(
        "/api/v1/monitors", headers={**auth, "X-Phoenix-Organization": team.json()["id"]}
    )
    assert [m["id"] for m in in_team.json()["items"]] == [theirs.json()["id"]]


def test_no_credential_rests_in_the_idempotency_cache(
    stack: RunningStack, servers: Servers, module_namespace: tuple[str, str]
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    me = client.get("/api/v1/account/me", headers=auth).json()
    kept = client.post("/api/v1/monitors", json=MONITOR, headers={**auth, "Idempotency-Key": "m"})
    assert kept.status_code == 201
    secrets = [auth["Authorization"].removeprefix("Bearer ")]
    calls = [
        ("/api/v1/auth/login", {"username": me["user"]["username"], "password": PASSWORD}),
        ("/api/v1/api-keys", {"name": "ci", "scopes": ["read"]}),
        ("/api/v1/account/two-factor", {"current_password": PASSWORD}),
        (f"/api/v1/organizations/{me['organization_id']}/invitations", {"email": "a@b.example"}),
        ("/api/v1/account/change-password", {"current_password": PASSWORD, "new_password": NEW}),
    ]
    statuses = []
    for path, body in calls:
        answer = client.post(path, json=body, headers={**auth, "Idempotency-Key": "k" + path})
        statuses.append((path, answer.status_code))
        if answer.is_success:  # before the fix: the answer, credential and all, was stored
            found = [answer.json()[f] for f in CREDENTIAL_FIELDS if f in answer.json()]
            secrets += found
            stack.secrets.extend(found)
    stored = _idempotency_entries(servers.redis_url, module_namespace[0])
    assert stored, "the monitor's answer is remembered"
    for secret in secrets:
        forms = [secret.encode(), base64.b64encode(secret.encode())]
        holding = [v for v in stored if any(f in v or f in _unb64(v) for f in forms)]
        assert not holding, f"a credential ({secret[:6]}…) is stored in Redis"
    assert statuses == [(path, 400) for path, _ in calls]


CREDENTIAL_FIELDS = ("session_token", "key", "secret", "token")
NEW = PASSWORD + " two"


def _idempotency_entries(redis_url: str, namespace: str) -> list[bytes]:
    cache = redis.Redis.from_url(redis_url)
    try:
        return [cache.get(k) or b"" for k in cache.scan_iter(f"{namespace}:idempotency:*")]
    finally:
        cache.close()


def _unb64(value: bytes) -> bytes:
    """The stored answer's body, decoded (msgspec keeps bytes as base64 in JSON)."""
    try:
        return base64.b64decode(value.split(b'"body":"')[1].split(b'"')[0])
    except (IndexError, ValueError):
        return b""
