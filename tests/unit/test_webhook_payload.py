"""The webhook channel: its JSON body, its signature, and what a receiver gets."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

import pytest
from phoenix_contracts.channels import WebhookConfig
from phoenix_contracts.notifications import MonitorRef
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.webhook import WebhookChannel, payload_of, signature
from phoenix_notifier.message import notice_of

from tests.channel_kit import OCCURRED, Receiver, Reply, job, loopback_transport, notice


def test_the_payload_has_exactly_the_documented_keys() -> None:
    body = json.loads(payload_of(notice()))
    assert set(body) == {
        "event",
        "title",
        "text",
        "monitor",
        "status",
        "previous_status",
        "reason",
        "occurred_at",
        "incident_id",
        "resend",
        "delivery_id",
        "alert_rule_id",
    }
    assert set(body["monitor"]) == {"id", "name", "url"}


def test_the_payload_carries_the_jobs_values() -> None:
    body = json.loads(payload_of(notice()))
    assert body["event"] == "down"
    assert body["title"] == "Shop is down"
    assert body["monitor"] == {
        "id": "monitor-1",
        "name": "Shop",
        "url": "https://shop.example.com/",
    }
    assert (body["status"], body["previous_status"]) == ("down", "up")
    assert body["reason"] == "timeout: the request timed out"
    assert body["delivery_id"] == "event-9:rule-3:channel-2"
    assert (body["incident_id"], body["resend"]) == ("incident-4", 0)
    assert datetime.fromisoformat(body["occurred_at"]) == OCCURRED


def test_the_organization_and_cause_event_are_not_leaked() -> None:
    text = payload_of(notice(key="k-1", cause_event_id="cause-1")).decode()
    assert "cause-1" not in text
    assert "org-1" not in text


def test_user_text_is_escaped_as_json_and_titles_stay_one_line() -> None:
    name = 'Shop "EU" \\ <script>\r\nBcc: evil@example.com'
    body = json.loads(payload_of(notice(monitor=MonitorRef(id="m", name=name, url="https://x/"))))
    assert body["monitor"]["name"] == 'Shop "EU" \\ <script> Bcc: evil@example.com'
    assert "\n" not in body["title"]


def test_templates_fill_placeholders_and_nothing_else() -> None:
    made = notice_of(job(), "[{{event}}] {{monitor.name}}", "{{reason}} / {{ monitor.url }}")
    assert made.title == "[down] Shop"
    assert made.text == "timeout: the request timed out / https://shop.example.com/"


def test_the_signature_is_hmac_sha256_of_timestamp_and_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("s3cret", 1700000000, body) == f"t=1700000000,v1={expected}"


async def test_a_receiver_gets_the_signed_body_headers_and_method() -> None:
    receiver = Receiver()
    try:
        async with loopback_transport() as transport:
            channel = WebhookChannel(transport, clock=lambda: 1700000000.5)
            config = WebhookConfig(
                url=receiver.url + "/hook",
                method="PUT",
                headers={"X-Team": "ops"},
                secret="s3cret",
            )
            await channel.send(notice(), config)
        (got,) = receiver.received
        assert (got.method, got.path) == ("PUT", "/hook")
        assert got.headers["x-team"] == "ops"
        assert got.headers["content-type"] == "application/json"
        assert got.headers["idempotency-key"] == "event-9:rule-3:channel-2"
        assert got.headers["x-phoenix-signature"] == signature("s3cret", 1700000000, got.body)
        assert got.json()["event"] == "down"
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("reply", "permanent", "retry_after"),
    [
        (Reply(status=503), False, None),
        (Reply(status=429, headers={"Retry-After": "7"}), False, 7.0),
        (Reply(status=404), True, None),
        (Reply(status=400), True, None),
    ],
)
async def test_answers_are_classified_transient_or_permanent(
    reply: Reply, permanent: bool, retry_after: float | None
) -> None:
    receiver = Receiver(reply)
    try:
        async with loopback_transport() as transport:
            with pytest.raises(TransportError) as error:
                await WebhookChannel(transport).send(
                    notice(), WebhookConfig(url=receiver.url + "/hook")
                )
        assert error.value.permanent is permanent
        assert error.value.retry_after == retry_after
    finally:
        receiver.close()


async def test_an_internal_address_is_refused_for_good() -> None:
    async with loopback_transport() as transport:
        with pytest.raises(TransportError) as error:
            await WebhookChannel(transport).send(
                notice(), WebhookConfig(url="http://169.254.169.254/latest")
            )
    assert error.value.permanent is True
