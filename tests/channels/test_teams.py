"""Microsoft Teams: the Adaptive Card message, a real send, and relayed errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from phoenix_contracts.channels import TeamsConfig
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.teams import TeamsChannel

from tests.channel_kit import Receiver, Reply
from tests.channels.chat_kit import (
    HOSTILE_NAME,
    UNUSED_TRANSPORT,
    down,
    hostile,
    only,
    recovered,
    send,
)

URL = "https://prod.westeurope.logic.azure.test/workflows/abc/triggers/manual/paths/invoke?sig=S"
TEAMS = TeamsChannel(UNUSED_TRANSPORT)


def run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}


def rich(*runs: dict[str, Any], **block: Any) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": list(runs), **block}


def line(name: str, value: str) -> dict[str, Any]:
    return rich(run(f"{name}: ", weight="Bolder"), run(value), spacing="Small")


def card(style: str, title: str, lines: list[str], status: str, event: str) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "msteams": {"width": "Full"},
                    "body": [
                        {
                            "type": "Container",
                            "style": style,
                            "bleed": True,
                            "items": [rich(run(title, weight="Bolder", size="Medium"))],
                        },
                        *(rich(run(text)) for text in lines),
                        line("Monitor", "Shop"),
                        line("Status", status),
                        rich(
                            run(
                                f"{event} · 2024-05-17 08:30:15 UTC · Phoenix",
                                isSubtle=True,
                                size="Small",
                            ),
                            spacing="Medium",
                        ),
                    ],
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": "Open monitor",
                            "url": "https://shop.example.com/",
                        }
                    ],
                },
            }
        ],
    }


def test_a_down_notice_is_an_adaptive_card_with_a_red_banner() -> None:
    request = only(TEAMS.render(down(), TeamsConfig(webhook_url=URL)))
    assert (request.method, request.url) == ("POST", URL)
    assert request.headers == {"Content-Type": "application/json"}
    assert json.loads(request.body) == card(
        "attention",
        "🔴 Shop is down",
        ["timeout: the request timed out", "https://shop.example.com/", "2024-05-17 08:30:15 UTC"],
        "up → down",
        "Down",
    )


def test_a_recovery_has_a_green_banner() -> None:
    request = only(TEAMS.render(recovered(), TeamsConfig(webhook_url=URL)))
    assert json.loads(request.body) == card(
        "good",
        "🟢 Shop is back up",
        ["up", "https://shop.example.com/", "2024-05-17 08:30:15 UTC"],
        "down → up",
        "Recovered",
    )


def test_user_markup_only_ever_lands_in_text_runs() -> None:
    content = json.loads(only(TEAMS.render(hostile(), TeamsConfig(webhook_url=URL))).body)
    body = content["attachments"][0]["content"]["body"]

    def texts(element: Any) -> list[tuple[str, str]]:
        """(element type, text) of every element carrying text, however nested."""
        if isinstance(element, list):
            return [found for item in element for found in texts(item)]
        if not isinstance(element, dict):
            return []
        found = [(element["type"], element["text"])] if "text" in element else []
        for key in ("items", "inlines"):
            found += texts(element.get(key, []))
        return found

    carriers = texts(body)
    # Teams renders Markdown in TextBlock and FactSet, never in a TextRun.
    assert {kind for kind, _ in carriers} == {"TextRun"}
    values = [text for _, text in carriers]
    assert HOSTILE_NAME in values  # the monitor line, as written
    assert f"{HOSTILE_NAME} failed" in values
    assert "Reason: " in values  # not in the text, so it gets a line
    assert "<script>alert(1)</script> `code` ~s~ |x| &amp;" in "\n".join(values)


async def test_a_receiver_gets_the_card() -> None:
    receiver = Receiver(Reply(status=202, body=b""))
    try:
        await send(TeamsChannel, down(), TeamsConfig(webhook_url=receiver.url + "/workflows/x"))
        (got,) = receiver.received
        assert (got.method, got.path) == ("POST", "/workflows/x")
        assert got.headers["content-type"] == "application/json"
        (attachment,) = got.json()["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert attachment["content"]["type"] == "AdaptiveCard"
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("reply", "permanent", "retry_after"),
    [
        (Reply(status=400, body=b'{"error": {"code": "InvalidRequestContent"}}'), True, None),
        (Reply(status=404, body=b"workflow not found"), True, None),
        (Reply(status=429, headers={"Retry-After": "12"}), False, 12.0),
        (Reply(status=503), False, None),
        # A connector that answers 200 but relays the error of Teams behind it.
        (
            Reply(
                status=200,
                body=b"Webhook message delivery failed with error: Microsoft Teams endpoint"
                b" returned HTTP error 429 with ContextId tcid=0",
            ),
            False,
            None,
        ),
        (
            Reply(status=200, body=b"Microsoft Teams endpoint returned HTTP error 413"),
            True,
            None,
        ),
    ],
)
async def test_answers_are_classified(
    reply: Reply, permanent: bool, retry_after: float | None
) -> None:
    receiver = Receiver(reply)
    try:
        with pytest.raises(TransportError) as error:
            await send(TeamsChannel, down(), TeamsConfig(webhook_url=receiver.url + "/w"))
        assert (error.value.permanent, error.value.retry_after) == (permanent, retry_after)
        assert str(error.value).startswith("teams: ")
    finally:
        receiver.close()


async def test_a_connector_saying_1_is_delivered() -> None:
    receiver = Receiver(Reply(status=200, body=b"1", headers={"Content-Type": "text/plain"}))
    try:
        await send(TeamsChannel, down(), TeamsConfig(webhook_url=receiver.url + "/w"))
        assert len(receiver.received) == 1
    finally:
        receiver.close()


async def test_the_webhook_signature_never_reaches_an_error() -> None:
    path = "/workflows/abc/triggers/manual/paths/invoke?sig=SIGNATURE-SECRET"
    receiver = Receiver(Reply(status=401, body=b"bad sig=SIGNATURE-SECRET for " + path.encode()))
    try:
        with pytest.raises(TransportError) as error:
            await send(TeamsChannel, down(), TeamsConfig(webhook_url=receiver.url + path))
        assert "SIGNATURE-SECRET" not in str(error.value)
    finally:
        receiver.close()
