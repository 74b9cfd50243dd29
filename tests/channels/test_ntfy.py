"""ntfy: the publish request (body and headers), a real send, and answers."""

from __future__ import annotations

import base64
import email.header

import pytest
from phoenix_contracts.channels import NtfyConfig
from phoenix_contracts.notifications import MonitorRef
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.ntfy import NtfyChannel, clip_bytes, encode_header

from tests.channel_kit import Receiver, Reply, notice
from tests.channels.chat_kit import UNUSED_TRANSPORT, down, hostile, only, recovered, send

NTFY = NtfyChannel(UNUSED_TRANSPORT)


def test_a_down_notice_is_urgent_with_a_click_link_and_the_token() -> None:
    request = only(NTFY.render(down(), NtfyConfig(topic="phoenix-alerts", token="tk_secret")))
    assert (request.method, request.url) == ("POST", "https://ntfy.sh/phoenix-alerts")
    assert request.headers == {
        "Content-Type": "text/plain; charset=utf-8",
        "Title": "Shop is down",
        "Priority": "5",
        "Tags": "red_circle,down",
        "Click": "https://shop.example.com/",
        "Authorization": "Bearer tk_secret",
    }
    assert request.body == (
        b"timeout: the request timed out\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC"
    )


def test_a_recovery_is_default_priority_and_sends_no_token_when_none_is_set() -> None:
    config = NtfyConfig(server_url="https://ntfy.example.test/", topic="ops")
    request = only(NTFY.render(recovered(), config))
    assert request.url == "https://ntfy.example.test/ops"
    assert request.headers == {
        "Content-Type": "text/plain; charset=utf-8",
        "Title": "Shop is back up",
        "Priority": "3",
        "Tags": "green_circle,recovered",
        "Click": "https://shop.example.com/",
    }
    assert request.body == b"up\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC"


@pytest.mark.parametrize(
    "title",
    ["Café Zürich is down", "🔥 Shop", "日本語のモニターがダウンしています" * 3, "a =?x?= b"],
)
def test_a_non_ascii_title_is_rfc_2047_and_decodes_back(title: str) -> None:
    encoded = encode_header(title)
    assert encoded.isascii()
    for word in encoded.split(" "):
        assert word.startswith("=?UTF-8?B?")
        assert len(word) <= 75
    decoded = "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in email.header.decode_header(encoded)
    )
    assert decoded == title


def test_an_ascii_title_goes_as_it_is_and_never_with_a_line_break() -> None:
    assert encode_header("Shop is down") == "Shop is down"
    assert encode_header("a\r\nX-Injected: 1") == "a X-Injected: 1"


def test_markup_in_user_text_is_sent_as_plain_text() -> None:
    request = only(NTFY.render(hostile(), NtfyConfig(topic="t")))
    assert request.body.decode().startswith("<b>x</b> *bold* _it_")  # ntfy shows it as text
    title = request.headers["Title"]
    assert "\n" not in title
    assert title.isascii()


def test_a_non_http_or_non_ascii_monitor_url_is_no_click_header() -> None:
    for url in ("tcp://db:5432", "https://bücher.test/"):
        made = notice(monitor=MonitorRef(id="m", name="M", url=url))
        assert "Click" not in only(NTFY.render(made, NtfyConfig(topic="t"))).headers


def test_a_long_body_is_cut_within_ntfys_limit_on_a_character_boundary() -> None:
    clipped = clip_bytes("é" * 3000, 4096)
    assert len(clipped) <= 4096
    assert clipped.decode().endswith("…")


async def test_a_receiver_gets_the_text_and_headers() -> None:
    receiver = Receiver(Reply(body=b'{"id": "abc", "event": "message"}'))
    try:
        config = NtfyConfig(server_url=receiver.url, topic="alerts", token="tk_abc")
        made = notice(monitor=MonitorRef(id="m", name="Café", url="https://shop.example.com/"))
        await send(NtfyChannel, made, config)
        (got,) = receiver.received
        assert (got.method, got.path) == ("POST", "/alerts")
        assert got.headers["authorization"] == "Bearer tk_abc"
        assert got.headers["priority"] == "5"
        assert got.headers["tags"] == "red_circle,down"
        assert got.headers["click"] == "https://shop.example.com/"
        word = got.headers["title"]
        assert base64.b64decode(word.removeprefix("=?UTF-8?B?").removesuffix("?=")).decode() == (
            "Café is down"
        )
        assert got.body.startswith(b"timeout: the request timed out")
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("reply", "permanent", "retry_after"),
    [
        (Reply(status=403, body=b'{"code": 40301, "http": 403, "error": "forbidden"}'), True, None),
        (
            Reply(status=401, body=b'{"code": 40101, "http": 401, "error": "unauthorized"}'),
            True,
            None,
        ),
        (Reply(status=413, body=b'{"code": 41301, "http": 413}'), True, None),
        (
            Reply(status=429, body=b'{"code": 42901, "http": 429}', headers={"Retry-After": "60"}),
            False,
            60.0,
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
            await send(NtfyChannel, down(), NtfyConfig(server_url=receiver.url, topic="t"))
        assert (error.value.permanent, error.value.retry_after) == (permanent, retry_after)
        assert str(error.value).startswith("ntfy: HTTP ")
    finally:
        receiver.close()


async def test_the_access_token_never_reaches_an_error() -> None:
    receiver = Receiver(Reply(status=401, body=b'{"error": "token tk_topsecret123 is invalid"}'))
    try:
        config = NtfyConfig(server_url=receiver.url, topic="t", token="tk_topsecret123")
        with pytest.raises(TransportError) as error:
            await send(NtfyChannel, down(), config)
        assert "tk_topsecret123" not in str(error.value)
        assert error.value.permanent is True
    finally:
        receiver.close()
