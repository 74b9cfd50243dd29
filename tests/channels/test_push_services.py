"""Gotify, Pushover and Matrix: the exact request each renders, what a receiver gets,
how answers are classified, escaping, and that no secret reaches an error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import parse_qs

import pytest
from phoenix_contracts.channels import GotifyConfig, MatrixConfig, PushoverConfig
from phoenix_contracts.notifications import MonitorRef
from phoenix_notifier.channels.base import (
    HttpChannel,
    HttpRequest,
    HttpTransport,
    TransportError,
)
from phoenix_notifier.channels.gotify import GotifyChannel
from phoenix_notifier.channels.matrix import MatrixChannel, transaction_id
from phoenix_notifier.channels.pushover import PushoverChannel
from phoenix_notifier.message import Notice

from tests.channel_kit import Receiver, Reply, loopback_transport, notice

GOTIFY_TOKEN = "AgotifyTokenXYZ"
PUSHOVER_TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
PUSHOVER_USER = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
MATRIX_TOKEN = "syt_bWF0cml4_secretTokenValue_1a2b3c"

DOWN_TEXT = "timeout: the request timed out\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC"
UP_TEXT = "up\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC"
OCCURRED_UNIX = 1715934615
OFFLINE = cast(HttpTransport, None)  # render is pure: it never touches the transport


def recovered() -> Notice:
    return notice(event="recovered", status="up", previous_status="down", reason="")


def single(rendered: HttpRequest | Any) -> HttpRequest:
    assert isinstance(rendered, HttpRequest)
    return rendered


def hostile() -> Notice:
    return notice(
        monitor=MonitorRef(
            id="m-9", name='<img src=x onerror="alert(1)"> & co', url="https://x.example/?a=1&b=2"
        ),
        reason="<script>alert('x')</script>\nsecond line",
    )


# --- Gotify ---------------------------------------------------------------------------------


def gotify_config(url: str = "https://push.example.com/") -> GotifyConfig:
    return GotifyConfig(server_url=url, app_token=GOTIFY_TOKEN, priority=8)


def test_gotify_renders_a_down_message_with_the_token_in_a_header() -> None:
    request = single(GotifyChannel(OFFLINE).render(notice(), gotify_config()))
    assert request.method == "POST"
    assert request.url == "https://push.example.com/message"
    assert request.headers == {"Content-Type": "application/json", "X-Gotify-Key": GOTIFY_TOKEN}
    assert json.loads(request.body) == {
        "title": "🔴 Shop is down",
        "message": DOWN_TEXT,
        "priority": 8,
        "extras": {
            "client::display": {"contentType": "text/plain"},
            "client::notification": {"click": {"url": "https://shop.example.com/"}},
        },
    }


def test_gotify_renders_a_recovery_and_leaves_out_a_click_without_a_url() -> None:
    channel = GotifyChannel(OFFLINE)
    request = single(channel.render(recovered(), gotify_config()))
    assert json.loads(request.body)["title"] == "🟢 Shop is back up"
    assert json.loads(request.body)["message"] == UP_TEXT
    bare = notice(monitor=MonitorRef(id="m", name="Shop", url=""))
    assert json.loads(single(channel.render(bare, gotify_config())).body)["extras"] == {
        "client::display": {"contentType": "text/plain"}
    }


async def test_gotify_reaches_a_receiver() -> None:
    receiver = Receiver(Reply(body=b'{"id": 25, "appid": 5}'))
    try:
        async with loopback_transport() as transport:
            await GotifyChannel(transport).send(notice(), gotify_config(receiver.url + "/gotify"))
        (got,) = receiver.received
        assert (got.method, got.path, got.query) == ("POST", "/gotify/message", {})
        assert got.headers["x-gotify-key"] == GOTIFY_TOKEN
        assert got.headers["content-type"] == "application/json"
        assert got.json()["message"] == DOWN_TEXT
    finally:
        receiver.close()


# --- Pushover -------------------------------------------------------------------------------


def pushover_config(url: str = "https://api.pushover.net") -> PushoverConfig:
    return PushoverConfig(user_key=PUSHOVER_USER, app_token=PUSHOVER_TOKEN, api_url=url)


def form(request: HttpRequest) -> dict[str, str]:
    return {key: value for key, (value,) in parse_qs(request.body.decode()).items()}


def test_pushover_renders_a_down_message_at_high_priority() -> None:
    request = single(PushoverChannel(OFFLINE).render(notice(), pushover_config()))
    assert request.method == "POST"
    assert request.url == "https://api.pushover.net/1/messages.json"
    assert request.headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert form(request) == {
        "token": PUSHOVER_TOKEN,
        "user": PUSHOVER_USER,
        "title": "🔴 Shop is down",
        "message": DOWN_TEXT,
        "priority": "1",
        "timestamp": str(OCCURRED_UNIX),
        "url": "https://shop.example.com/",
        "url_title": "Shop",
    }


def test_pushover_renders_a_recovery_at_normal_priority() -> None:
    request = single(PushoverChannel(OFFLINE).render(recovered(), pushover_config()))
    fields = form(request)
    assert fields["priority"] == "0"
    assert (fields["title"], fields["message"]) == ("🟢 Shop is back up", UP_TEXT)


def test_pushover_keeps_to_its_length_limits() -> None:
    long = notice(
        monitor=MonitorRef(id="m", name="n" * 300, url="https://x.example/" + "p" * 600),
    )
    fields = form(single(PushoverChannel(OFFLINE).render(long, pushover_config())))
    assert len(fields["title"]) <= 250
    assert len(fields["message"]) <= 1024
    assert "url" not in fields  # a cut URL would be a wrong one


async def test_pushover_reaches_a_receiver() -> None:
    receiver = Receiver(Reply(body=b'{"status": 1, "request": "647d2300-702c"}'))
    try:
        async with loopback_transport() as transport:
            await PushoverChannel(transport).send(notice(), pushover_config(receiver.url))
        (got,) = receiver.received
        assert (got.method, got.path) == ("POST", "/1/messages.json")
        assert got.headers["content-type"] == "application/x-www-form-urlencoded"
        assert got.form()["token"] == [PUSHOVER_TOKEN]
        assert got.form()["user"] == [PUSHOVER_USER]
        assert got.form()["priority"] == ["1"]
    finally:
        receiver.close()


async def test_pushover_a_200_with_status_0_is_a_permanent_refusal() -> None:
    receiver = Receiver(Reply(body=b'{"status": 0, "errors": ["message cannot be blank"]}'))
    try:
        async with loopback_transport() as transport:
            with pytest.raises(TransportError) as error:
                await PushoverChannel(transport).send(notice(), pushover_config(receiver.url))
        assert error.value.permanent is True
        assert "message cannot be blank" in str(error.value)
    finally:
        receiver.close()


# --- Matrix ---------------------------------------------------------------------------------


def matrix_config(url: str = "https://matrix.example.org") -> MatrixConfig:
    return MatrixConfig(homeserver_url=url, access_token=MATRIX_TOKEN, room_id="!ops:example.org")


def test_matrix_renders_a_down_message_as_an_idempotent_put() -> None:
    request = single(MatrixChannel(OFFLINE).render(notice(), matrix_config()))
    txn = transaction_id(notice())
    assert request.method == "PUT"
    assert request.url == (
        "https://matrix.example.org/_matrix/client/v3/rooms/%21ops%3Aexample.org"
        f"/send/m.room.message/{txn}"
    )
    assert request.headers == {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {MATRIX_TOKEN}",
    }
    assert json.loads(request.body) == {
        "msgtype": "m.text",
        "body": "🔴 Shop is down\n" + DOWN_TEXT,
        "format": "org.matrix.custom.html",
        "formatted_body": "<p><strong>🔴 Shop is down</strong></p>"
        "<p>timeout: the request timed out<br>https://shop.example.com/<br>"
        "2024-05-17 08:30:15 UTC</p>",
    }


def test_matrix_renders_a_recovery_as_a_notice() -> None:
    request = single(MatrixChannel(OFFLINE).render(recovered(), matrix_config()))
    body = json.loads(request.body)
    assert body["msgtype"] == "m.notice"
    assert body["body"] == "🟢 Shop is back up\n" + UP_TEXT
    assert body["formatted_body"].startswith("<p><strong>🟢 Shop is back up</strong></p>")


def test_matrix_transaction_ids_follow_the_delivery() -> None:
    first = transaction_id(notice())
    assert first == transaction_id(notice())  # a retry reuses it: the server deduplicates
    assert first != transaction_id(notice(key="event-10:rule-3:channel-2"))
    assert first != transaction_id(notice(resend=1))  # a reminder is a new message
    assert first.startswith("phoenix-")
    assert first.replace("-", "").isalnum()  # safe as a path segment as it is


def test_matrix_escapes_every_user_value_in_the_html() -> None:
    request = single(MatrixChannel(OFFLINE).render(hostile(), matrix_config()))
    html = json.loads(request.body)["formatted_body"]
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;<br>second line" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co is down" in html
    assert "https://x.example/?a=1&amp;b=2" in html
    assert "\n" not in html
    plain = json.loads(request.body)["body"]
    assert "<script>alert('x')</script>\nsecond line" in plain  # the plain body stays plain


async def test_matrix_reaches_a_receiver() -> None:
    receiver = Receiver(Reply(body=b'{"event_id": "$abc:example.org"}'))
    try:
        async with loopback_transport() as transport:
            await MatrixChannel(transport).send(notice(), matrix_config(receiver.url))
        (got,) = receiver.received
        assert got.method == "PUT"
        # The room id arrives percent-encoded, as one path segment.
        txn = transaction_id(notice())
        assert (
            got.path == f"/_matrix/client/v3/rooms/%21ops%3Aexample.org/send/m.room.message/{txn}"
        )
        assert got.headers["authorization"] == f"Bearer {MATRIX_TOKEN}"
        assert got.json()["msgtype"] == "m.text"
    finally:
        receiver.close()


# --- Answers, for all three -----------------------------------------------------------------

Case = tuple[Callable[[Any], HttpChannel], Callable[[str], Any]]
CHANNELS: dict[str, Case] = {
    "gotify": (GotifyChannel, gotify_config),
    "pushover": (PushoverChannel, pushover_config),
    "matrix": (MatrixChannel, matrix_config),
}

ANSWERS = [
    # (channel, reply, permanent, retry_after)
    ("gotify", Reply(status=401, body=b'{"error":"Unauthorized","errorCode":401}'), True, None),
    ("gotify", Reply(status=400, body=b'{"error":"Bad Request","errorCode":400}'), True, None),
    ("gotify", Reply(status=503, body=b"down for maintenance"), False, None),
    ("gotify", Reply(status=429, headers={"Retry-After": "12"}), False, 12.0),
    (
        "pushover",
        Reply(status=400, body=b'{"user":"invalid","errors":["user key is invalid"],"status":0}'),
        True,
        None,
    ),
    ("pushover", Reply(status=500, body=b""), False, None),
    ("pushover", Reply(status=429, headers={"Retry-After": "30"}), False, 30.0),
    (
        "matrix",
        Reply(status=429, body=b'{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":2500}'),
        False,
        2.5,
    ),
    (
        "matrix",
        Reply(status=429, body=b'{"errcode":"M_LIMIT_EXCEEDED"}', headers={"Retry-After": "4"}),
        False,
        4.0,
    ),
    (
        "matrix",
        Reply(status=403, body=b'{"errcode":"M_FORBIDDEN","error":"not in room"}'),
        True,
        None,
    ),
    ("matrix", Reply(status=502, body=b"<html>bad gateway</html>"), False, None),
]


@pytest.mark.parametrize(("name", "reply", "permanent", "retry_after"), ANSWERS)
async def test_answers_are_classified(
    name: str, reply: Reply, permanent: bool, retry_after: float | None
) -> None:
    make, config = CHANNELS[name]
    receiver = Receiver(reply)
    try:
        async with loopback_transport() as transport:
            with pytest.raises(TransportError) as error:
                await make(transport).send(notice(), config(receiver.url))
        assert error.value.permanent is permanent
        assert error.value.retry_after == retry_after
        assert str(error.value).startswith(f"HTTP {reply.status}")
    finally:
        receiver.close()


async def test_matrix_error_messages_name_the_errcode() -> None:
    receiver = Receiver(Reply(status=401, body=b'{"errcode":"M_UNKNOWN_TOKEN","error":"Unknown"}'))
    try:
        async with loopback_transport() as transport:
            with pytest.raises(TransportError) as error:
                await MatrixChannel(transport).send(notice(), matrix_config(receiver.url))
        assert str(error.value) == "HTTP 401: M_UNKNOWN_TOKEN: Unknown"
    finally:
        receiver.close()


SECRETS = {
    "gotify": [GOTIFY_TOKEN],
    "pushover": [PUSHOVER_TOKEN, PUSHOVER_USER],
    "matrix": [MATRIX_TOKEN],
}


@pytest.mark.parametrize("name", sorted(CHANNELS))
@pytest.mark.parametrize("status", [400, 503])
async def test_no_secret_survives_in_an_error_even_when_the_service_echoes_it(
    name: str, status: int
) -> None:
    make, config = CHANNELS[name]
    echoed = " ".join(SECRETS[name])
    receiver = Receiver(
        Reply(
            status=status,
            body=json.dumps({"error": echoed, "errors": [echoed], "errcode": echoed}).encode(),
        )
    )
    try:
        async with loopback_transport() as transport:
            with pytest.raises(TransportError) as error:
                await make(transport).send(notice(), config(receiver.url))
        for secret in SECRETS[name]:
            assert secret not in str(error.value)
        assert "[redacted]" in str(error.value)
        assert error.value.__cause__ is None
        assert error.value.__suppress_context__ is True
    finally:
        receiver.close()


@pytest.mark.parametrize("name", sorted(CHANNELS))
async def test_no_secret_survives_in_a_network_error(name: str) -> None:
    make, config = CHANNELS[name]
    receiver = Receiver()
    dead = receiver.url
    receiver.close()  # nothing listens there any more: connection refused
    async with loopback_transport() as transport:
        with pytest.raises(TransportError) as error:
            await make(transport).send(notice(), config(dead))
    assert error.value.permanent is False
    for secret in SECRETS[name]:
        assert secret not in str(error.value)
