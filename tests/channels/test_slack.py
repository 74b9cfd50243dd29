"""Slack: the incoming-webhook body, a real send, and how answers are read."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from phoenix_contracts.channels import SlackConfig
from phoenix_contracts.notifications import MonitorRef
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.slack import SlackChannel, monitor_mrkdwn
from phoenix_notifier.message import Notice

from tests.channel_kit import Receiver, Reply, notice
from tests.channels.chat_kit import UNUSED_TRANSPORT, down, hostile, only, recovered, send

SLACK = SlackChannel(UNUSED_TRANSPORT)

URL = "https://hooks.slack.test/services/T000/B000/XXXXXXXXXXXXXXXX"


def rendered(make: Callable[[], Notice] = down) -> tuple[str, Any]:
    request = only(SLACK.render(make(), SlackConfig(webhook_url=URL)))
    assert (request.method, request.headers) == ("POST", {"Content-Type": "application/json"})
    return request.url, json.loads(request.body)


def expected(title: str, color: str, text: str, status: str, event: str) -> dict[str, Any]:
    return {
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}}
        ],
        "attachments": [
            {
                "color": color,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                    {
                        "type": "section",
                        "fields": [
                            {
                                "type": "mrkdwn",
                                "text": "*Monitor*\n<https://shop.example.com/|Shop>",
                            },
                            {"type": "mrkdwn", "text": f"*Status*\n{status}"},
                        ],
                    },
                    {
                        "type": "context",
                        "elements": [
                            {
                                "type": "mrkdwn",
                                "text": f"{event} · 2024-05-17 08:30:15 UTC · Phoenix",
                            }
                        ],
                    },
                ],
            }
        ],
    }


def test_a_down_notice_is_a_red_attachment_under_a_header() -> None:
    url, body = rendered(down)
    assert url == URL
    assert body == expected(
        "🔴 Shop is down",
        "#D93025",
        "timeout: the request timed out\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC",
        "up → down",
        "Down",
    )


def test_a_recovery_is_green() -> None:
    _, body = rendered(recovered)
    assert body == expected(
        "🟢 Shop is back up",
        "#2EB67D",
        "up\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC",
        "down → up",
        "Recovered",
    )


def test_user_markup_cannot_make_links_or_mentions() -> None:
    _, body = rendered(hostile)
    # Slack's control characters are escaped everywhere mrkdwn is parsed ...
    text = json.dumps([body["text"], body["attachments"]], ensure_ascii=False)
    for raw in ("<!channel>", "<b>", "<users/all>"):
        assert raw not in text
    details = body["attachments"][0]["blocks"]
    assert details[0]["text"]["text"].startswith("&lt;b&gt;x&lt;/b&gt; *bold*")
    fields = [field["text"] for field in details[1]["fields"]]
    assert fields[0] == (
        "*Monitor*\n<https://shop.example.com/|&lt;b&gt;x&lt;/b&gt; *bold* _it_"
        " [a](http://evil.test) &lt;!channel&gt; @everyone &amp; &lt;users/all&gt;>"
    )
    # ... and a reason the text does not give gets its own field.
    assert fields[2] == (
        "*Reason*\nline1\n- item\n# head\n&lt;script&gt;alert(1)&lt;/script&gt;"
        " `code` ~s~ |x| &amp;amp;"
    )
    # plain_text is never parsed: it goes as written.
    assert body["blocks"][0]["text"]["text"].startswith("🔴 <b>x</b>")


def test_a_monitor_url_cannot_end_the_link_early() -> None:
    made = notice(monitor=MonitorRef(id="m", name="Shop", url="https://x.test/a|b>c&d"))
    assert monitor_mrkdwn(made) == "<https://x.test/a%7Cb%3Ec&amp;d|Shop>"


def test_a_monitor_without_an_http_url_is_named_not_linked() -> None:
    made = notice(monitor=MonitorRef(id="m", name="DB", url="tcp://db.internal:5432"))
    assert monitor_mrkdwn(made) == "DB"


async def test_a_receiver_gets_the_json_body() -> None:
    receiver = Receiver(Reply(body=b"ok", headers={"Content-Type": "text/plain"}))
    try:
        await send(SlackChannel, down(), SlackConfig(webhook_url=receiver.url + "/services/T/B/X"))
        (got,) = receiver.received
        assert (got.method, got.path) == ("POST", "/services/T/B/X")
        assert got.headers["content-type"] == "application/json"
        assert got.json()["text"] == "🔴 Shop is down"
        assert got.json()["attachments"][0]["color"] == "#D93025"
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("reply", "permanent", "retry_after", "message"),
    [
        (
            Reply(status=400, body=b"invalid_payload"),
            True,
            None,
            "slack: HTTP 400: invalid_payload",
        ),
        (Reply(status=404, body=b"no_service"), True, None, "slack: HTTP 404: no_service"),
        (Reply(status=410, body=b"channel_is_archived"), True, None, None),
        (Reply(status=429, body=b"rate_limited", headers={"Retry-After": "30"}), False, 30.0, None),
        (Reply(status=500, body=b"rollup_error"), False, None, "slack: HTTP 500: rollup_error"),
    ],
)
async def test_answers_are_classified(
    reply: Reply, permanent: bool, retry_after: float | None, message: str | None
) -> None:
    receiver = Receiver(reply)
    try:
        with pytest.raises(TransportError) as error:
            await send(SlackChannel, down(), SlackConfig(webhook_url=receiver.url + "/services/T"))
        assert (error.value.permanent, error.value.retry_after) == (permanent, retry_after)
        if message:
            assert str(error.value) == message
    finally:
        receiver.close()


async def test_the_webhook_url_never_reaches_an_error() -> None:
    receiver = Receiver()
    path = "/services/T000/B000/SECRETSECRETSECRET"
    receiver.replies = [Reply(status=403, body=f"no access to {path}".encode())]
    try:
        with pytest.raises(TransportError) as error:
            await send(SlackChannel, down(), SlackConfig(webhook_url=receiver.url + path))
        assert "SECRETSECRETSECRET" not in str(error.value)
        assert str(error.value) == "slack: HTTP 403: no access to [redacted]"
    finally:
        receiver.close()
