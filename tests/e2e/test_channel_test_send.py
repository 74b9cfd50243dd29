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
