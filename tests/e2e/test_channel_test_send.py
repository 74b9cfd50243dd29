"""Sending a test message through a channel: it arrives, or the answer says why not."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.peers import WebhookSink
from tests.e2e.stack import RunningStack, free_port
from tests.e2e.test_monitoring_flow import sign_up_and_log_in

pytestmark = pytest.mark.e2e


def channel(client: httpx.Client, auth: dict[str, str], url: str) -> str:
    created = client.post(
        "/api/v1/notification-channels",
        json={"name": "hook", "type": "webhook", "config": {"url": url}},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_working_channel_delivers_the_test_message_at_once(
    stack: RunningStack, sink: WebhookSink
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=40)
    auth = sign_up_and_log_in(client)
    channel_id = channel(client, auth, sink.url + "hook")
    answer = client.post(f"/api/v1/notification-channels/{channel_id}/test", headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is True
    assert [body["event"] for body in sink.wait_for(1, timeout=5)] == ["test"]


@pytest.mark.parametrize(
    ("url", "permanent"),
    [("http://127.0.0.1:{closed}/hook", False), ("http://10.0.0.1/hook", True)],
    ids=["nobody-listening", "internal-address"],
)
def test_a_broken_channel_says_why_and_whether_retrying_helps(
    stack: RunningStack, url: str, permanent: bool
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=40)
    auth = sign_up_and_log_in(client)
    channel_id = channel(client, auth, url.format(closed=free_port()))
    answer = client.post(f"/api/v1/notification-channels/{channel_id}/test", headers=auth).json()
    assert answer["ok"] is False
    assert answer["error"]
    assert answer["permanent"] is permanent


def test_testing_an_unknown_channel_is_a_404(stack: RunningStack) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=40)
    auth = sign_up_and_log_in(client)
    assert (
        client.post(f"/api/v1/notification-channels/{uuid.uuid4()}/test", headers=auth).status_code
        == 404
    )


def test_an_edited_channel_delivers_to_its_new_address(
    stack: RunningStack, sink: WebhookSink
) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=40)
    auth = sign_up_and_log_in(client)
    channel_id = channel(client, auth, f"http://127.0.0.1:{free_port()}/nobody")
    path = f"/api/v1/notification-channels/{channel_id}"
    edited = client.patch(
        path, json={"name": "renamed", "config": {"url": sink.url + "moved"}}, headers=auth
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["name"] == "renamed"
    assert edited.json()["config"] == {"url": sink.url + "moved"}
    retyped = client.patch(path, json={"type": "email"}, headers=auth)
    assert retyped.status_code == 422  # a channel keeps its type
    # The notifier learned the change from the log: the test goes to the new URL.
    answer = client.post(f"{path}/test", headers=auth).json()
    assert answer["ok"] is True, answer
    assert [body["event"] for body in sink.wait_for(1, timeout=5)] == ["test"]


def test_an_alert_rule_is_edited_field_by_field(stack: RunningStack, sink: WebhookSink) -> None:
    client = httpx.Client(base_url=stack.base_url, timeout=40)
    auth = sign_up_and_log_in(client)
    first = channel(client, auth, sink.url + "a")
    second = channel(client, auth, sink.url + "b")
    rule = client.post(
        "/api/v1/alert-rules",
        json={"name": "pager", "event": "down", "notification_channel_ids": [first]},
        headers=auth,
    ).json()
    path = f"/api/v1/alert-rules/{rule['id']}"
    edited = client.patch(
        path,
        json={"event": "recovered", "notification_channel_ids": [second], "is_active": False},
        headers=auth,
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["name"], body["event"], body["is_active"]) == ("pager", "recovered", False)
    assert body["notification_channel_ids"] == [second]
    assert client.get(path, headers=auth).json() == body
    unknown = client.patch(
        path, json={"notification_channel_ids": [str(uuid.uuid4())]}, headers=auth
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "notification_channel_ids"
    other = sign_up_and_log_in(client)
    assert client.patch(path, json={"name": "mine"}, headers=other).status_code == 404
