"""The helpers every chat channel uses: escaping, links, and redacted errors."""

from __future__ import annotations

import pytest
from phoenix_contracts.channels import DiscordConfig, GoogleChatConfig, NtfyConfig, TelegramConfig
from phoenix_notifier.channels.base import redact, secrets_in
from phoenix_notifier.channels.chat_format import (
    escape_markdown,
    escape_slack,
    extra_reason,
    http_link,
    status_line,
)

from tests.channel_kit import notice


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("*bold* _it_ ~s~ `c`", r"\*bold\* \_it\_ \~s\~ \`c\`"),
        ("<b>x</b> [a](b) #h |x| !", r"\<b\>x\</b\> \[a\]\(b\) \#h \|x\| \!"),
        ("back\\slash", "back\\\\slash"),
        ("- item\n+ item\n  1. one\n2) two", "\\- item\n\\+ item\n  1\\. one\n2\\) two"),
        ("a-b 3.5 x+y", "a-b 3.5 x+y"),
        ("see https://x.test/a_b*c now *b*", r"see https://x.test/a_b*c now \*b\*"),
        ("(at https://x.test/a_b).", r"\(at https://x.test/a_b\)."),
    ],
)
def test_markdown_is_escaped_but_bare_urls_stay_whole(raw: str, escaped: str) -> None:
    assert escape_markdown(raw) == escaped


def test_slack_escapes_exactly_its_three_control_characters() -> None:
    assert escape_slack("a & <b> *c*") == "a &amp; &lt;b&gt; *c*"


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://x.test/a", "https://x.test/a"),
        ("http://x.test", "http://x.test"),
        ("tcp://db:5432", None),
        ("db.internal", None),
        ("javascript:alert(1)", None),
        ("https://x.test/a b", None),
        ("https://x.test/\r\nX: y", None),
        ("", None),
    ],
)
def test_only_http_urls_become_links(url: str, link: str | None) -> None:
    assert http_link(url) == link


def test_status_line_and_the_reason_the_text_does_not_give() -> None:
    assert status_line(notice()) == "up → down"
    assert status_line(notice(previous_status="")) == "down"
    assert extra_reason(notice()) == ""  # the default text starts with it
    assert extra_reason(notice(reason="")) == ""


def test_secrets_and_the_token_part_of_webhook_urls_are_redacted() -> None:
    config = DiscordConfig(webhook_url="https://discord.test/api/webhooks/1/TOKEN")
    found = secrets_in("discord", config)
    assert "https://discord.test/api/webhooks/1/TOKEN" in found
    assert "/api/webhooks/1/TOKEN" in found
    message = "HTTP 404 for https://discord.test/api/webhooks/1/TOKEN and /api/webhooks/1/TOKEN"
    assert redact(message, found) == "HTTP 404 for [redacted] and [redacted]"
    assert not {"api", "webhooks"} & set(found)  # short parts are not secrets
    chat = GoogleChatConfig(
        webhook_url="https://chat.test/v1/spaces/S/messages?key=KEY12345&token=TOK12345"
    )
    assert {"KEY12345", "TOK12345"} <= set(secrets_in("google_chat", chat))
    assert secrets_in("ntfy", NtfyConfig(topic="t", token="tk_1")) == ["tk_1"]
    telegram = TelegramConfig(bot_token="123:ABC-secret", chat_id="1")
    assert secrets_in("telegram", telegram) == ["123:ABC-secret"]
