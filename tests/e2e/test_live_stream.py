"""The live stream: a browser sees a status change and check results within a second."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from tests.e2e.peers import Target
from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in

pytestmark = pytest.mark.e2e


def read_events(
    url: str,
    headers: dict[str, str],
    into: list[tuple[str, dict[str, object], float]],
    stop: threading.Event,
) -> None:
    with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(5, read=20)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if stop.is_set():
                return
            if line.startswith("event:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and line.split(":", 1)[1].strip():
                into.append((name, json.loads(line.split(":", 1)[1]), time.monotonic()))


def test_a_watcher_sees_its_organizations_changes_and_not_anothers(
    stack: RunningStack, target: Target
) -> None:
    mine = httpx.Client(base_url=stack.base_url, timeout=20)
    theirs = httpx.Client(base_url=stack.base_url, timeout=20)
    my_auth, their_auth = sign_up_and_log_in(mine), sign_up_and_log_in(theirs)
    seen: list[tuple[str, dict[str, object], float]] = []
    stop = threading.Event()
    reader = threading.Thread(
        target=read_events,
        args=(f"{stack.base_url}/api/v1/stream", my_auth, seen, stop),
        daemon=True,
    )
    reader.start()
    time.sleep(1)
    created_at = time.monotonic()
    monitor = mine.post(
        "/api/v1/monitors",
        json={"name": "live", "type": "http", "url": target.url, "interval": 1, "timeout": 0.5},
        headers=my_auth,
    ).json()
    other = theirs.post(
        "/api/v1/monitors",
        json={"name": "other", "type": "http", "url": target.url, "interval": 1, "timeout": 0.5},
        headers=their_auth,
    ).json()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(name == "status" for name, _, _ in seen):
        time.sleep(0.1)
    stop.set()
    statuses = [(payload, at) for name, payload, at in seen if name == "status"]
    assert statuses, seen
    payload, at = statuses[0]
    assert payload["monitor_id"] == monitor["id"]
    assert payload["status"] == "up"
    assert at - created_at < 5  # created, checked, judged and pushed
    checks = [payload for name, payload, _ in seen if name == "check"]
    assert any(check["monitor_id"] == monitor["id"] for check in checks)
    assert all(p.get("monitor_id") != other["id"] for _, p, _ in seen)


def test_the_stream_needs_credentials(stack: RunningStack) -> None:
    assert httpx.get(f"{stack.base_url}/api/v1/stream", timeout=5).status_code == 401


def test_a_browser_picks_the_streams_organization_with_a_query_parameter(
    stack: RunningStack, target: Target
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    team = client.post("/api/v1/organizations", json={"name": "team"}, headers=auth).json()["id"]
    seen: list[tuple[str, dict[str, object], float]] = []
    stop = threading.Event()
    threading.Thread(
        target=read_events,
        args=(f"{stack.base_url}/api/v1/stream?organization={team}", auth, seen, stop),
        daemon=True,
    ).start()
    time.sleep(1)
    body = {"type": "http", "url": target.url, "interval": 1, "timeout": 0.5}
    personal = client.post("/api/v1/monitors", json={**body, "name": "mine"}, headers=auth).json()
    shared = client.post(
        "/api/v1/monitors",
        json={**body, "name": "team"},
        headers={**auth, "X-Phoenix-Organization": team},
    ).json()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(name == "status" for name, _, _ in seen):
        time.sleep(0.1)
    stop.set()
    watched = {p.get("monitor_id") for _, p, _ in seen}
    assert shared["id"] in watched
    assert personal["id"] not in watched
    stranger = sign_up_and_log_in(httpx.Client(base_url=stack.base_url, timeout=20))
    refused = httpx.get(
        f"{stack.base_url}/api/v1/stream?organization={team}", headers=stranger, timeout=5
    )
    assert refused.status_code == 403
