"""Mattermost: the incoming-webhook body, a real send, and how answers are read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from phoenix_contracts.channels import MattermostConfig
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.mattermost import MattermostChannel

from tests.channel_kit import Receiver, Reply
from tests.channels.chat_kit import UNUSED_TRANSPORT, down, hostile, only, recovered, send

URL = "https://mattermost.test/hooks/xr3j5x3p4pfjkpgg1xw3bs6qkw"
MATTERMOST = MattermostChannel(UNUSED_TRANSPORT)


def body_of(config: MattermostConfig, notice: Any) -> Any:
    request = only(MATTERMOST.render(notice, config))
    assert (request.method, request.url) == ("POST", config.webhook_url)
    assert request.headers == {"Content-Type": "application/json"}
    return json.loads(request.body)


def test_a_down_notice_is_a_red_attachment_in_the_chosen_channel() -> None:
    config = MattermostConfig(webhook_url=URL, channel="ops-alerts", username="phoenix")
    assert body_of(config, down()) == {
        "text": "🔴 **Shop is down**",
        "attachments": [
            {
                "fallback": "🔴 Shop is down",
                "color": "#D93025",
                "text": "timeout: the request timed out\nhttps://shop.example.com/\n"
                "2024-05-17 08:30:15 UTC",
                "fields": [
                    {
                        "short": True,
                        "title": "Monitor",
                        "value": "[Shop](https://shop.example.com/)",
                    },
                    {"short": True, "title": "Status", "value": "up → down"},
                ],
                "footer": "Phoenix · Down · 2024-05-17 08:30:15 UTC",
            }
        ],
        "channel": "ops-alerts",
        "username": "phoenix",
    }


def test_a_recovery_is_green_and_uses_the_webhooks_own_channel() -> None:
    assert body_of(MattermostConfig(webhook_url=URL), recovered()) == {
        "text": "🟢 **Shop is back up**",
        "attachments": [
            {
                "fallback": "🟢 Shop is back up",
                "color": "#2EB67D",
                "text": "up\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC",
                "fields": [
                    {
                        "short": True,
                        "title": "Monitor",
                        "value": "[Shop](https://shop.example.com/)",
                    },
                    {"short": True, "title": "Status", "value": "down → up"},
                ],
                "footer": "Phoenix · Recovered · 2024-05-17 08:30:15 UTC",
            }
        ],
    }


def test_user_markdown_is_escaped() -> None:
    body = body_of(MattermostConfig(webhook_url=URL), hostile())
    escaped_name = (
        r"\<b\>x\</b\> \*bold\* \_it\_ \[a\]\(http://evil.test\) \<\!channel\> @everyone"
        r" & \<users/all\>"
    )
    assert body["text"] == rf"🔴 **{escaped_name} is down**"
    (attachment,) = body["attachments"]
    assert attachment["fallback"].startswith("🔴 <b>x</b>")  # plain text: never rendered
    assert attachment["text"] == escaped_name + " failed\n\\*check\\* it"
    assert attachment["fields"][0]["value"] == f"[{escaped_name}](https://shop.example.com/)"
    assert attachment["fields"][2] == {
        "short": False,
        "title": "Reason",
        "value": "line1\n\\- item\n\\# head\n\\<script\\>alert\\(1\\)\\</script\\> \\`code\\`"
        " \\~s\\~ \\|x\\| &amp;",
    }


async def test_a_receiver_gets_the_post() -> None:
    receiver = Receiver(Reply(body=b"ok", headers={"Content-Type": "text/plain"}))
    try:
        config = MattermostConfig(webhook_url=receiver.url + "/hooks/abc", channel="town-square")
        await send(MattermostChannel, down(), config)
        (got,) = receiver.received
        assert (got.method, got.path) == ("POST", "/hooks/abc")
        assert got.json()["channel"] == "town-square"
        assert got.json()["attachments"][0]["color"] == "#D93025"
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("reply", "permanent", "retry_after"),
    [
        (
            Reply(status=400, body=b'{"id": "web.incoming_webhook.invalid.app_error"}'),
            True,
            None,
        ),
        (Reply(status=403, body=b'{"message": "webhooks disabled"}'), True, None),
        (Reply(status=429, headers={"Retry-After": "1"}), False, 1.0),
        (Reply(status=502), False, None),
    ],
)
async def test_answers_are_classified(
    reply: Reply, permanent: bool, retry_after: float | None
) -> None:
    receiver = Receiver(reply)
    try:
        with pytest.raises(TransportError) as error:
            await send(MattermostChannel, down(), MattermostConfig(webhook_url=receiver.url + "/h"))
        assert (error.value.permanent, error.value.retry_after) == (permanent, retry_after)
        assert str(error.value).startswith("mattermost: HTTP ")
    finally:
        receiver.close()


async def test_the_webhook_id_never_reaches_an_error() -> None:
    receiver = Receiver(
        Reply(status=400, body=b'{"message": "invalid webhook xr3j5x3p4pfjkpgg1xw3bs6qkw"}')
    )
    try:
        config = MattermostConfig(webhook_url=receiver.url + "/hooks/xr3j5x3p4pfjkpgg1xw3bs6qkw")
        with pytest.raises(TransportError) as error:
            await send(MattermostChannel, down(), config)
        assert "xr3j5x3p4pfjkpgg1xw3bs6qkw" not in str(error.value)
    finally:
        receiver.close()
