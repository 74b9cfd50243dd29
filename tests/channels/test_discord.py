"""Discord: the webhook body, a real send, and rate limits from the JSON body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from phoenix_contracts.channels import DiscordConfig
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.discord import DiscordChannel, with_wait

from tests.channel_kit import Receiver, Reply
from tests.channels.chat_kit import UNUSED_TRANSPORT, down, hostile, only, recovered, send

URL = "https://discord.test/api/webhooks/123/TOKEN"
DISCORD = DiscordChannel(UNUSED_TRANSPORT)


def body_of(config: DiscordConfig, notice: Any) -> tuple[str, Any]:
    request = only(DISCORD.render(notice, config))
    assert (request.method, request.headers) == ("POST", {"Content-Type": "application/json"})
    return request.url, json.loads(request.body)


def test_a_down_notice_is_a_red_embed() -> None:
    url, body = body_of(DiscordConfig(webhook_url=URL, username="Phoenix"), down())
    assert url == URL + "?wait=true"
    assert body == {
        "content": "🔴 Shop is down",
        "embeds": [
            {
                "title": "🔴 Shop is down",
                "description": (
                    "timeout: the request timed out\nhttps://shop.example.com/\n"
                    "2024-05-17 08:30:15 UTC"
                ),
                "color": 0xD93025,
                "timestamp": "2024-05-17T08:30:15.250000+00:00",
                "fields": [
                    {
                        "name": "Monitor",
                        "value": "[Shop](https://shop.example.com/)",
                        "inline": True,
                    },
                    {"name": "Status", "value": "up → down", "inline": True},
                ],
                "footer": {"text": "Phoenix · Down"},
                "url": "https://shop.example.com/",
            }
        ],
        "allowed_mentions": {"parse": []},
        "username": "Phoenix",
    }


def test_a_recovery_is_green_and_has_no_username_unless_set() -> None:
    _, body = body_of(DiscordConfig(webhook_url=URL), recovered())
    assert "username" not in body
    assert body["content"] == "🟢 Shop is back up"
    (embed,) = body["embeds"]
    assert embed["color"] == 0x2EB67D
    assert embed["description"] == "up\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC"
    assert embed["fields"][1] == {"name": "Status", "value": "down → up", "inline": True}


def test_wait_is_added_to_whatever_query_the_webhook_has() -> None:
    assert with_wait(URL + "?thread_id=42") == URL + "?thread_id=42&wait=true"
    assert with_wait(URL + "?wait=false") == URL + "?wait=true"


def test_user_markdown_is_escaped_and_nobody_is_pinged() -> None:
    _, body = body_of(DiscordConfig(webhook_url=URL), hostile())
    (embed,) = body["embeds"]
    assert body["allowed_mentions"] == {"parse": []}
    assert embed["fields"][0]["value"] == (
        r"[\<b\>x\</b\> \*bold\* \_it\_ \[a\]\(http://evil.test\) \<\!channel\> @everyone"
        r" & \<users/all\>](https://shop.example.com/)"
    )
    assert embed["description"].startswith(r"\<b\>x\</b\> \*bold\*")
    assert embed["description"].endswith("failed\n\\*check\\* it")
    assert embed["fields"][2] == {
        "name": "Reason",
        "value": "line1\n\\- item\n\\# head\n\\<script\\>alert\\(1\\)\\</script\\> \\`code\\`"
        " \\~s\\~ \\|x\\| &amp;",
        "inline": False,
    }


async def test_a_receiver_gets_the_body_with_wait() -> None:
    receiver = Receiver(Reply(body=b'{"id": "1"}'))
    try:
        config = DiscordConfig(webhook_url=receiver.url + "/api/webhooks/1/tok", username="P")
        await send(DiscordChannel, down(), config)
        (got,) = receiver.received
        assert (got.method, got.path, got.query) == (
            "POST",
            "/api/webhooks/1/tok",
            {"wait": ["true"]},
        )
        assert got.headers["content-type"] == "application/json"
        assert got.json()["embeds"][0]["color"] == 0xD93025
        assert got.json()["username"] == "P"
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("reply", "permanent", "retry_after"),
    [
        (
            Reply(
                status=429,
                body=b'{"message": "You are being rate limited.", "retry_after": 1.5,'
                b' "global": false}',
            ),
            False,
            1.5,
        ),
        (Reply(status=429, body=b"{}", headers={"Retry-After": "4"}), False, 4.0),
        (Reply(status=502, body=b"bad gateway"), False, None),
        (Reply(status=404, body=b'{"message": "Unknown Webhook", "code": 10015}'), True, None),
        (Reply(status=400, body=b'{"message": "Invalid Form Body", "code": 50035}'), True, None),
    ],
)
async def test_answers_are_classified(
    reply: Reply, permanent: bool, retry_after: float | None
) -> None:
    receiver = Receiver(reply)
    try:
        with pytest.raises(TransportError) as error:
            await send(DiscordChannel, down(), DiscordConfig(webhook_url=receiver.url + "/w/1/t"))
        assert (error.value.permanent, error.value.retry_after) == (permanent, retry_after)
        assert str(error.value).startswith("discord: HTTP ")
    finally:
        receiver.close()


async def test_a_global_rate_limit_says_so() -> None:
    receiver = Receiver(
        Reply(status=429, body=b'{"message": "Slow down", "retry_after": 2, "global": true}')
    )
    try:
        with pytest.raises(TransportError) as error:
            await send(DiscordChannel, down(), DiscordConfig(webhook_url=receiver.url + "/w/1/t"))
        assert str(error.value) == "discord: HTTP 429: Slow down (global)"
        assert error.value.retry_after == 2.0
    finally:
        receiver.close()


async def test_the_webhook_token_never_reaches_an_error() -> None:
    path = "/api/webhooks/1/SECRET-TOKEN-123"
    receiver = Receiver(Reply(status=401, body=f'{{"message": "bad token at {path}"}}'.encode()))
    try:
        with pytest.raises(TransportError) as error:
            await send(DiscordChannel, down(), DiscordConfig(webhook_url=receiver.url + path))
        assert "SECRET-TOKEN-123" not in str(error.value)
        assert error.value.permanent is True
    finally:
        receiver.close()
