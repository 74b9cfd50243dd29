"""What the chat channel tests share: the notices they send and one real send."""

from __future__ import annotations

from typing import Any, cast

from phoenix_contracts.notifications import MonitorRef
from phoenix_notifier.channels.base import HttpChannel, HttpRequest, HttpTransport
from phoenix_notifier.message import Notice, notice_of

from tests.channel_kit import job, loopback_transport, notice

# render() is pure: a channel only rendering never touches its transport.
UNUSED_TRANSPORT: HttpTransport = cast(HttpTransport, None)

# Markup of every kind a user could put in a monitor's name or a check's reason.
HOSTILE_NAME = "<b>x</b> *bold* _it_ [a](http://evil.test) <!channel> @everyone & <users/all>"
HOSTILE_REASON = "line1\n- item\n# head\n<script>alert(1)</script> `code` ~s~ |x| &amp;"


def down() -> Notice:
    return notice()


def recovered() -> Notice:
    return notice(event="recovered", status="up", previous_status="down", reason="")


def hostile() -> Notice:
    """A monitor named with markup whose reason is not in the text (a text template)."""
    return notice_of(
        job(
            monitor=MonitorRef(id="monitor-1", name=HOSTILE_NAME, url="https://shop.example.com/"),
            reason=HOSTILE_REASON,
        ),
        text_template="{{monitor.name}} failed\n*check* it",
    )


def only(rendered: HttpRequest | Any) -> HttpRequest:
    assert isinstance(rendered, HttpRequest)
    return rendered


async def send(channel_type: type[HttpChannel], notice: Notice, config: Any) -> None:
    async with loopback_transport() as transport:
        await channel_type(transport).send(notice, config)
