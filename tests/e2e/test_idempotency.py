"""Idempotency-Key: a retried POST gets the first answer instead of a second monitor."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in

pytestmark = pytest.mark.e2e
MONITOR = {"name": "once", "type": "http", "url": "https://example.com", "interval": 60}


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
