"""Incidents and tags end to end: an outage becomes an incident people work on."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.e2e.peers import Target
from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in, wait_for_status

pytestmark = pytest.mark.e2e


def wait_for_incident(
    client: httpx.Client, auth: dict[str, str], monitor_id: str, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = client.get(
            "/api/v1/incidents", params={"monitor_id": monitor_id}, headers=auth
        ).json()
        if listed["items"]:
            return listed["items"][0]
        time.sleep(0.2)
    raise AssertionError("no incident was opened")


def kinds(incident: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in incident["timeline"]]


def test_an_outage_is_acknowledged_updated_and_resolved_by_hand_exactly_once(
    stack: RunningStack, target: Target
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    monitor = client.post(
        "/api/v1/monitors",
        json={
            "name": "api",
            "type": "http",
            "url": target.url,
            "interval": 1,
            "timeout": 0.8,
            "failure_threshold": 1,
            "recovery_threshold": 1,
        },
        headers=auth,
    ).json()
    wait_for_status(client, auth, monitor["id"], "up", timeout=20)

    target.status = 503
    wait_for_status(client, auth, monitor["id"], "down", timeout=20)
    incident = wait_for_incident(client, auth, monitor["id"], timeout=10)
    assert incident["status"] == "open"
    assert incident["monitor_id"] == monitor["id"]
    assert incident["severity"] == "critical"
    open_ones = client.get("/api/v1/incidents", params={"status": "open"}, headers=auth).json()
    assert [i["id"] for i in open_ones["items"]] == [incident["id"]]
    path = f"/api/v1/incidents/{incident['id']}"
    detail = client.get(path, headers=auth).json()
    assert "opened" in kinds(detail)

    # Someone else cannot see or touch it.
    stranger = sign_up_and_log_in(client)
    assert client.get(path, headers=stranger).status_code == 404
    assert client.post(path + "/acknowledge", json={}, headers=stranger).status_code == 404
    assert client.get("/api/v1/incidents", headers=stranger).json()["items"] == []

    acked = client.post(path + "/acknowledge", json={"note": "looking"}, headers=auth)
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_at"]
    entry = next(e for e in acked.json()["timeline"] if e["kind"] == "acknowledged")
    assert entry["message"] == "looking"
    assert entry["by_user_id"]
    again = client.post(path + "/acknowledge", headers=auth)  # no body: fine, and idempotent
    assert again.status_code == 200, again.text
    assert kinds(again.json()).count("acknowledged") == 1

    updated = client.post(path + "/updates", json={"message": "db failover"}, headers=auth)
    assert updated.status_code == 201, updated.text
    assert [e["message"] for e in updated.json()["timeline"] if e["kind"] == "update"] == [
        "db failover"
    ]
    refused = client.post(path + "/updates", json={"message": "x", "extra": 1}, headers=auth)
    assert refused.status_code == 400

    resolved = client.post(path + "/resolve", json={"note": "failed over"}, headers=auth)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"]
    assert client.post(path + "/resolve", headers=auth).json()["status"] == "resolved"

    # The target recovers: the monitor comes back up, the incident stays resolved once.
    target.status = 200
    wait_for_status(client, auth, monitor["id"], "up", timeout=20)
    time.sleep(2)
    final = client.get(path, headers=auth).json()
    assert final["status"] == "resolved"
    assert kinds(final).count("resolved") == 1
    assert "status_changed" in kinds(final)  # the monitor's down is on the timeline
    resolved_entry = next(e for e in final["timeline"] if e["kind"] == "resolved")
    assert resolved_entry["message"] == "failed over"

    # The next outage is a new incident, resolved by the recovery.
    target.status = 503
    wait_for_status(client, auth, monitor["id"], "down", timeout=20)
    target.status = 200
    wait_for_status(client, auth, monitor["id"], "up", timeout=20)
    listed = client.get(
        "/api/v1/incidents", params={"monitor_id": monitor["id"]}, headers=auth
    ).json()
    assert len(listed["items"]) == 2
    newest = listed["items"][0]
    assert newest["id"] != incident["id"]
    deadline = time.monotonic() + 10
    while newest["status"] != "resolved" and time.monotonic() < deadline:
        time.sleep(0.2)
        newest = client.get(f"/api/v1/incidents/{newest['id']}", headers=auth).json()
    assert newest["status"] == "resolved"
    assert client.get(path, headers=auth).json()["status"] == "resolved"


def test_tags_are_unique_by_name_and_can_be_given_to_a_monitor(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    prod = client.post("/api/v1/tags", json={"name": "prod", "color": "#1F8B4C"}, headers=auth)
    assert prod.status_code == 201, prod.text
    assert prod.json()["color"] == "#1f8b4c"
    db = client.post(
        "/api/v1/tags", json={"name": "db", "color": "#123456", "description": "data"}, headers=auth
    ).json()

    duplicate = client.post("/api/v1/tags", json={"name": "prod"}, headers=auth)
    assert duplicate.status_code in (409, 422), duplicate.text
    assert duplicate.json()["errors"][0]["field"] == "name"
    bad_color = client.post("/api/v1/tags", json={"name": "x", "color": "red"}, headers=auth)
    assert bad_color.status_code == 422
    assert bad_color.json()["errors"][0]["field"] == "color"

    listed = client.get("/api/v1/tags", headers=auth).json()["items"]
    assert {t["name"] for t in listed} == {"prod", "db"}
    renamed = client.patch(
        f"/api/v1/tags/{db['id']}", json={"name": "database"}, headers=auth
    ).json()
    assert (renamed["name"], renamed["color"], renamed["description"]) == (
        "database",
        "#123456",
        "data",
    )
    clash = client.patch(f"/api/v1/tags/{db['id']}", json={"name": "prod"}, headers=auth)
    assert clash.status_code in (409, 422)

    monitor = client.post(
        "/api/v1/monitors",
        json={"name": "web", "type": "http", "url": "http://127.0.0.1:9/", "interval": 60},
        headers=auth,
    ).json()
    tags_path = f"/api/v1/monitors/{monitor['id']}/tags"
    assert client.get(tags_path, headers=auth).json()["tag_ids"] == []
    given = client.put(tags_path, json={"tag_ids": [prod.json()["id"], db["id"]]}, headers=auth)
    assert given.status_code == 200, given.text
    assert given.json()["tag_ids"] == [prod.json()["id"], db["id"]]
    assert [t["name"] for t in client.get(tags_path, headers=auth).json()["tags"]] == [
        "prod",
        "database",
    ]
    unknown = client.put(
        tags_path, json={"tag_ids": ["00000000-0000-0000-0000-000000000000"]}, headers=auth
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "tag_ids"

    # A tag of another organization is unknown here, and theirs are invisible to us.
    other = sign_up_and_log_in(client)
    theirs = client.post("/api/v1/tags", json={"name": "prod"}, headers=other)
    assert theirs.status_code == 201  # names are unique per organization only
    assert (
        client.put(tags_path, json={"tag_ids": [theirs.json()["id"]]}, headers=auth).status_code
        == 422
    )
    assert client.get(f"/api/v1/tags/{prod.json()['id']}", headers=other).status_code == 404
    assert client.get(tags_path, headers=other).status_code == 404

    deleted = client.delete(f"/api/v1/tags/{db['id']}", headers=auth)
    assert deleted.status_code == 204
    assert client.get(tags_path, headers=auth).json()["tag_ids"] == [prod.json()["id"]]
    assert client.get(f"/api/v1/tags/{db['id']}", headers=auth).status_code == 404


def test_monitors_are_filtered_by_status_type_tag_and_text(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    tag = client.post("/api/v1/tags", json={"name": "Edge"}, headers=auth).json()

    def create(name: str, **fields: Any) -> str:
        body = {"name": name, "interval": 60, **fields}
        made = client.post("/api/v1/monitors", json=body, headers=auth)
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    shop = create("Shop 100%_off", type="http", url="http://shop.example.com/")
    api = create("API", type="http", url="http://api.example.com/")
    db = create("db", type="tcp", hostname="db.internal", port=5432)
    client.put(f"/api/v1/monitors/{api}/tags", json={"tag_ids": [tag["id"]]}, headers=auth)
    client.post(f"/api/v1/monitors/{db}/pause", headers=auth)

    def names(**query: str) -> set[str]:
        page = client.get("/api/v1/monitors", params=query, headers=auth)
        assert page.status_code == 200, page.text
        return {m["name"] for m in page.json()["items"]}

    assert names() == {"Shop 100%_off", "API", "db"}
    assert names(type="tcp") == {"db"}
    assert names(status="paused") == {"db"}
    assert names(status="up") == set()  # nothing here can answer
    assert names(tag=tag["id"]) == names(tag="edge") == {"API"}
    assert names(tag="no such tag") == set()
    assert names(q="SHOP") == {"Shop 100%_off"}
    assert names(q="%_") == {"Shop 100%_off"}  # wildcards are matched literally
    assert names(q="db.internal") == {"db"}
    assert names(q="example.com", type="http") == {"Shop 100%_off", "API"}
    assert names(q="example.com", status="paused") == set()
    # Filters and the cursor work together.
    first = client.get("/api/v1/monitors", params={"type": "http", "limit": 1}, headers=auth)
    cursor = first.json()["next_cursor"]
    second = client.get(
        "/api/v1/monitors", params={"type": "http", "limit": 1, "cursor": cursor}, headers=auth
    ).json()
    assert {first.json()["items"][0]["id"], second["items"][0]["id"]} == {shop, api}
    assert second["next_cursor"] is None
    bad = client.get("/api/v1/monitors", params={"status": "sideways"}, headers=auth)
    assert bad.status_code == 400
