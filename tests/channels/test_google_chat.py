"""Google Chat: text plus a card, a real send, and how answers are read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from phoenix_contracts.channels import GoogleChatConfig
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.google_chat import GoogleChatChannel

from tests.channel_kit import Receiver, Reply
from tests.channels.chat_kit import UNUSED_TRANSPORT, down, hostile, only, recovered, send

URL = "https://chat.googleapis.test/v1/spaces/AAAA/messages?key=KEY-1234&token=TOKEN-5678"
CHAT = GoogleChatChannel(UNUSED_TRANSPORT)


def decorated(label: str, text: str) -> dict[str, Any]:
    return {"decoratedText": {"topLabel": label, "text": text, "wrapText": True}}


def message(title: str, text_html: str, status_html: str, event: str) -> dict[str, Any]:
    return {
        "text": title,
        "cardsV2": [
            {
                "cardId": "phoenix-notice",
                "card": {
                    "header": {"title": title, "subtitle": f"Phoenix · {event}"},
                    "sections": [
                        {
                            "widgets": [
                                {"textParagraph": {"text": text_html}},
                                decorated("Monitor", "Shop"),
                                decorated("Status", status_html),
                                decorated("When", "2024-05-17 08:30:15 UTC"),
                                {
                                    "buttonList": {
                                        "buttons": [
                                            {
                                                "text": "Open monitor",
                                                "onClick": {
                                                    "openLink": {"url": "https://shop.example.com/"}
                                                },
                                            }
                                        ]
                                    }
                                },
                            ]
                        }
                    ],
                },
            }
        ],
    }


def test_a_down_notice_is_text_and_a_card() -> None:
    request = only(CHAT.render(down(), GoogleChatConfig(webhook_url=URL)))
    assert (request.method, request.url) == ("POST", URL)
    assert request.headers == {"Content-Type": "application/json"}
    assert json.loads(request.body) == message(
        "🔴 Shop is down",
        "timeout: the request timed out<br>https://shop.example.com/<br>2024-05-17 08:30:15 UTC",
        '<font color="#D93025">up → down</font>',
        "Down",
    )


def test_a_recovery_is_green() -> None:
    request = only(CHAT.render(recovered(), GoogleChatConfig(webhook_url=URL)))
    assert json.loads(request.body) == message(
        "🟢 Shop is back up",
        "up<br>https://shop.example.com/<br>2024-05-17 08:30:15 UTC",
        '<font color="#2EB67D">down → up</font>',
        "Recovered",
    )


def test_card_text_is_html_escaped_and_text_cannot_mention_everyone() -> None:
    body = json.loads(only(CHAT.render(hostile(), GoogleChatConfig(webhook_url=URL))).body)
    # "<users/all>" in the plain text would @mention the whole space.
    assert "<users/all>" not in body["text"]
    assert "<\u200busers/all>" in body["text"]
    widgets = body["cardsV2"][0]["card"]["sections"][0]["widgets"]
    paragraph = widgets[0]["textParagraph"]["text"]
    assert paragraph.startswith("&lt;b&gt;x&lt;/b&gt; *bold* _it_ [a](http://evil.test)")
    assert paragraph.endswith("failed<br>*check* it")
    assert widgets[1] == {
        "decoratedText": {
            "topLabel": "Monitor",
            "text": "&lt;b&gt;x&lt;/b&gt; *bold* _it_ [a](http://evil.test) &lt;!channel&gt;"
            " @everyone &amp; &lt;users/all&gt;",
            "wrapText": True,
        }
    }
    assert widgets[3]["decoratedText"]["text"] == (
        "line1<br>- item<br># head<br>&lt;script&gt;alert(1)&lt;/script&gt; `code` ~s~ |x|"
        " &amp;amp;"
    )


async def test_a_receiver_gets_the_message() -> None:
    receiver = Receiver(Reply(body=b'{"name": "spaces/AAAA/messages/1"}'))
    try:
        config = GoogleChatConfig(
            webhook_url=receiver.url + "/v1/spaces/AAAA/messages?key=k&token=t"
        )
        await send(GoogleChatChannel, down(), config)
        (got,) = receiver.received
        assert (got.method, got.path) == ("POST", "/v1/spaces/AAAA/messages")
        assert got.query == {"key": ["k"], "token": ["t"]}
        assert got.json()["text"] == "🔴 Shop is down"
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("reply", "permanent", "retry_after"),
    [
        (
            Reply(status=400, body=b'{"error": {"code": 400, "status": "INVALID_ARGUMENT"}}'),
            True,
            None,
        ),
        (
            Reply(status=403, body=b'{"error": {"code": 403, "status": "PERMISSION_DENIED"}}'),
            True,
            None,
        ),
        (
            Reply(
                status=429,
                body=b'{"error": {"status": "RESOURCE_EXHAUSTED"}}',
                headers={"Retry-After": "2"},
            ),
            False,
            2.0,
        ),
        (Reply(status=500), False, None),
    ],
)
async def test_answers_are_classified(
    reply: Reply, permanent: bool, retry_after: float | None
) -> None:
    receiver = Receiver(reply)
    try:
        with pytest.raises(TransportError) as error:
            await send(
                GoogleChatChannel, down(), GoogleChatConfig(webhook_url=receiver.url + "/v1/s")
            )
        assert (error.value.permanent, error.value.retry_after) == (permanent, retry_after)
        assert str(error.value).startswith("google_chat: HTTP ")
    finally:
        receiver.close()


async def test_the_webhook_key_and_token_never_reach_an_error() -> None:
    receiver = Receiver(
        Reply(status=400, body=b'{"error": {"message": "bad key KEY-1234 / token TOKEN-5678"}}')
    )
    try:
        config = GoogleChatConfig(
            webhook_url=receiver.url + "/v1/spaces/A/messages?key=KEY-1234&token=TOKEN-5678"
        )
        with pytest.raises(TransportError) as error:
            await send(GoogleChatChannel, down(), config)
        assert "KEY-1234" not in str(error.value)
        assert "TOKEN-5678" not in str(error.value)
    finally:
        receiver.close()
