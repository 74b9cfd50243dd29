"""Telegram: sendMessage in HTML mode, a real send, the Bot API's error answers,
and the bot token (it is in the URL) never in an error."""

from __future__ import annotations

import json

import pytest
from phoenix_contracts.channels import TelegramConfig
from phoenix_contracts.notifications import MonitorRef
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.telegram import TelegramChannel
from phoenix_notifier.message import notice_of

from tests.channel_kit import Receiver, Reply, job
from tests.channels.chat_kit import UNUSED_TRANSPORT, down, hostile, only, recovered, send

TOKEN = "123456789:AAF-secret_bot_token-XYZ"
TELEGRAM = TelegramChannel(UNUSED_TRANSPORT)


def config(api_url: str = "https://api.telegram.org") -> TelegramConfig:
    return TelegramConfig(bot_token=TOKEN, chat_id="-1001234567890", api_url=api_url)


def test_a_down_notice_is_send_message_in_html() -> None:
    request = only(TELEGRAM.render(down(), config()))
    assert (request.method, request.url) == (
        "POST",
        f"https://api.telegram.org/bot{TOKEN}/sendMessage",
    )
    assert request.headers == {"Content-Type": "application/json"}
    assert json.loads(request.body) == {
        "chat_id": "-1001234567890",
        "text": "<b>🔴 Shop is down</b>\n\ntimeout: the request timed out\n"
        "https://shop.example.com/\n2024-05-17 08:30:15 UTC",
        "parse_mode": "HTML",
        "disable_web_page_preview": True,
    }


def test_a_recovery_and_a_self_hosted_api_url() -> None:
    request = only(TELEGRAM.render(recovered(), config("https://tg.internal.test/")))
    assert request.url == f"https://tg.internal.test/bot{TOKEN}/sendMessage"
    assert json.loads(request.body)["text"] == (
        "<b>🟢 Shop is back up</b>\n\nup\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC"
    )


def test_every_user_value_is_html_escaped() -> None:
    text = json.loads(only(TELEGRAM.render(hostile(), config())).body)["text"]
    name = (
        "&lt;b&gt;x&lt;/b&gt; *bold* _it_ [a](http://evil.test) &lt;!channel&gt; @everyone"
        " &amp; &lt;users/all&gt;"
    )
    assert text == (
        f"<b>🔴 {name} is down</b>\n\n{name} failed\n*check* it\n\n"
        f'<a href="https://shop.example.com/">{name}</a>'
    )


def test_a_link_href_cannot_break_out_of_its_quotes() -> None:
    monitor = MonitorRef(id="m", name="S", url='https://x.test/"><b>')
    made = notice_of(job(monitor=monitor), text_template="{{reason}}")
    text = json.loads(only(TELEGRAM.render(made, config())).body)["text"]
    assert 'href="https://x.test/&quot;&gt;&lt;b&gt;"' in text


async def test_a_receiver_gets_the_message_on_the_bot_path() -> None:
    receiver = Receiver(Reply(body=b'{"ok": true, "result": {"message_id": 7}}'))
    try:
        await send(TelegramChannel, down(), config(receiver.url))
        (got,) = receiver.received
        assert (got.method, got.path) == ("POST", f"/bot{TOKEN}/sendMessage")
        assert got.json()["chat_id"] == "-1001234567890"
        assert got.json()["parse_mode"] == "HTML"
    finally:
        receiver.close()


def answer(status: int, description: str, **parameters: object) -> Reply:
    body: dict[str, object] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Reply(status=status, body=json.dumps(body).encode())


@pytest.mark.parametrize(
    ("reply", "permanent", "retry_after", "message"),
    [
        (answer(401, "Unauthorized"), True, None, "telegram: HTTP 401 Unauthorized"),
        (
            answer(400, "Bad Request: chat not found"),
            True,
            None,
            "telegram: HTTP 400 Bad Request: chat not found",
        ),
        (
            answer(403, "Forbidden: bot was blocked by the user"),
            True,
            None,
            "telegram: HTTP 403 Forbidden: bot was blocked by the user",
        ),
        (answer(404, "Not Found"), True, None, "telegram: HTTP 404 Not Found"),
        (
            answer(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=-100999,
            ),
            True,
            None,
            "telegram: HTTP 400 Bad Request: group chat was upgraded to a supergroup chat"
            " (the group is now chat -100999)",
        ),
        (
            answer(429, "Too Many Requests: retry after 17", retry_after=17),
            False,
            17.0,
            "telegram: HTTP 429 Too Many Requests: retry after 17",
        ),
        (
            Reply(status=502, body=b"<html>Bad Gateway</html>"),
            False,
            None,
            "telegram: HTTP 502 Bad Gateway",
        ),
        # A 200 that is not a success is still a refusal.
        (
            Reply(status=200, body=b'{"ok": false, "description": "odd"}'),
            True,
            None,
            "telegram: HTTP 200 odd",
        ),
    ],
)
async def test_bot_api_answers_are_classified(
    reply: Reply, permanent: bool, retry_after: float | None, message: str
) -> None:
    receiver = Receiver(reply)
    try:
        with pytest.raises(TransportError) as error:
            await send(TelegramChannel, down(), config(receiver.url))
        assert (error.value.permanent, error.value.retry_after) == (permanent, retry_after)
        assert str(error.value) == message
        assert TOKEN not in str(error.value)
    finally:
        receiver.close()


async def test_the_token_never_reaches_an_error_even_when_echoed() -> None:
    receiver = Receiver(answer(404, f"Not Found: /bot{TOKEN}/sendMessage"))
    try:
        with pytest.raises(TransportError) as error:
            await send(TelegramChannel, down(), config(receiver.url))
        assert TOKEN not in str(error.value)
        assert str(error.value) == "telegram: HTTP 404 Not Found: /bot[redacted]/sendMessage"
    finally:
        receiver.close()


async def test_an_unreachable_api_is_transient_and_names_no_token() -> None:
    receiver = Receiver()
    dead = receiver.url
    receiver.close()  # nothing listens there any more
    with pytest.raises(TransportError) as error:
        await send(TelegramChannel, down(), config(dead))
    assert error.value.permanent is False
    assert str(error.value).startswith("telegram: ")
    assert TOKEN not in str(error.value)
