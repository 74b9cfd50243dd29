"""PagerDuty, Opsgenie and Twilio SMS: the exact requests each renders (open, then close
on recovery; one SMS per number), what a receiver gets, how answers are classified,
and that no secret reaches an error."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, cast
from urllib.parse import parse_qs

import pytest
from phoenix_contracts.channels import OpsgenieConfig, PagerDutyConfig, TwilioConfig
from phoenix_contracts.notifications import MonitorRef
from phoenix_notifier.channels.base import (
    HttpChannel,
    HttpRequest,
    HttpTransport,
    TransportError,
)
from phoenix_notifier.channels.opsgenie import OpsgenieChannel
from phoenix_notifier.channels.pagerduty import PagerDutyChannel
from phoenix_notifier.channels.twilio import TwilioChannel
from phoenix_notifier.message import Notice

from tests.channel_kit import Receiver, Reply, loopback_transport, notice

ROUTING_KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32"
GENIE_KEY = "eb243592-faa2-4ba2-a551q-1afdf565c889"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilioAuthTokenSecret0123456789ab"
FROM = "+15005550006"
TO = ["+15550001111", "+15550002222"]

DOWN_TEXT = "timeout: the request timed out\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC"
UP_TEXT = "up\nhttps://shop.example.com/\n2024-05-17 08:30:15 UTC"
OCCURRED = "2024-05-17T08:30:15.250000+00:00"
OFFLINE = cast(HttpTransport, None)  # render is pure: it never touches the transport


def recovered() -> Notice:
    return notice(event="recovered", status="up", previous_status="down", reason="")


def single(rendered: HttpRequest | Sequence[HttpRequest]) -> HttpRequest:
    assert isinstance(rendered, HttpRequest)
    return rendered


# --- PagerDuty ------------------------------------------------------------------------------


def pagerduty_config(url: str = "https://events.pagerduty.com") -> PagerDutyConfig:
    return PagerDutyConfig(routing_key=ROUTING_KEY, api_url=url)


def test_pagerduty_triggers_on_down_and_resolves_the_same_alert_on_recovery() -> None:
    channel = PagerDutyChannel(OFFLINE)
    trigger = single(channel.render(notice(), pagerduty_config()))
    assert trigger.method == "POST"
    assert trigger.url == "https://events.pagerduty.com/v2/enqueue"
    assert trigger.headers == {"Content-Type": "application/json"}
    assert json.loads(trigger.body) == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "phoenix-monitor-1",
        "client": "Phoenix",
        "payload": {
            "summary": "Shop is down: timeout: the request timed out",
            "source": "https://shop.example.com/",
            "severity": "critical",
            "timestamp": OCCURRED,
            "component": "Shop",
            "class": "down",
            "custom_details": {
                "text": DOWN_TEXT,
                "status": "down",
                "previous_status": "up",
                "reason": "timeout: the request timed out",
                "monitor_id": "monitor-1",
                "monitor_name": "Shop",
                "monitor_url": "https://shop.example.com/",
                "incident_id": "incident-4",
                "resend": 0,
            },
        },
        "links": [{"href": "https://shop.example.com/", "text": "Shop"}],
    }
    resolve = single(channel.render(recovered(), pagerduty_config()))
    assert (resolve.method, resolve.url) == ("POST", "https://events.pagerduty.com/v2/enqueue")
    assert json.loads(resolve.body) == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": "phoenix-monitor-1",
    }


@pytest.mark.parametrize(
    ("event", "severity"),
    [
        ("down", "critical"),
        ("degraded", "warning"),
        ("certificate_expiring", "warning"),
        ("flapping", "warning"),
        ("test", "info"),
    ],
)
def test_pagerduty_severity_follows_the_event(event: str, severity: str) -> None:
    body = json.loads(
        single(PagerDutyChannel(OFFLINE).render(notice(event=event), pagerduty_config())).body
    )
    assert body["event_action"] == "trigger"
    assert body["payload"]["severity"] == severity


def test_pagerduty_summary_is_one_line_of_at_most_1024_characters() -> None:
    long = notice(reason="x" * 3000 + "\nsecond line")
    body = json.loads(single(PagerDutyChannel(OFFLINE).render(long, pagerduty_config())).body)
    assert len(body["payload"]["summary"]) == 1024
    assert "\n" not in body["payload"]["summary"]


def test_pagerduty_source_falls_back_to_the_monitor_name() -> None:
    bare = notice(monitor=MonitorRef(id="m-2", name="Cron job", url=""))
    body = json.loads(single(PagerDutyChannel(OFFLINE).render(bare, pagerduty_config())).body)
    assert body["payload"]["source"] == "Cron job"
    assert "links" not in body


async def test_pagerduty_a_receiver_gets_the_trigger_then_the_resolve() -> None:
    accepted = b'{"status":"success","message":"Event processed","dedup_key":"phoenix-monitor-1"}'
    receiver = Receiver(Reply(status=202, body=accepted))
    try:
        async with loopback_transport() as transport:
            channel = PagerDutyChannel(transport)
            await channel.send(notice(), pagerduty_config(receiver.url))
            await channel.send(recovered(), pagerduty_config(receiver.url))
        trigger, resolve = receiver.received
        assert (trigger.method, trigger.path) == ("POST", "/v2/enqueue")
        assert trigger.headers["content-type"] == "application/json"
        assert trigger.json()["event_action"] == "trigger"
        assert resolve.json()["event_action"] == "resolve"
        assert trigger.json()["dedup_key"] == resolve.json()["dedup_key"] == "phoenix-monitor-1"
    finally:
        receiver.close()


# --- Opsgenie -------------------------------------------------------------------------------


def opsgenie_config(url: str = "https://api.opsgenie.com") -> OpsgenieConfig:
    return OpsgenieConfig(api_key=GENIE_KEY, api_url=url)


def test_opsgenie_creates_on_down_and_closes_by_alias_on_recovery() -> None:
    channel = OpsgenieChannel(OFFLINE)
    create = single(channel.render(notice(), opsgenie_config()))
    assert create.method == "POST"
    assert create.url == "https://api.opsgenie.com/v2/alerts"
    assert create.headers == {
        "Content-Type": "application/json",
        "Authorization": f"GenieKey {GENIE_KEY}",
    }
    assert json.loads(create.body) == {
        "message": "Shop is down",
        "alias": "phoenix-monitor-1",
        "description": DOWN_TEXT,
        "priority": "P1",
        "source": "Phoenix",
        "entity": "Shop",
        "tags": ["phoenix", "down"],
        "details": {
            "event": "down",
            "status": "down",
            "previous_status": "up",
            "reason": "timeout: the request timed out",
            "monitor_id": "monitor-1",
            "monitor_name": "Shop",
            "monitor_url": "https://shop.example.com/",
            "incident_id": "incident-4",
            "occurred_at": OCCURRED,
        },
    }
    close = single(channel.render(recovered(), opsgenie_config()))
    assert close.method == "POST"
    assert close.url == (
        "https://api.opsgenie.com/v2/alerts/phoenix-monitor-1/close?identifierType=alias"
    )
    assert close.headers == create.headers
    assert json.loads(close.body) == {"source": "Phoenix", "note": "Shop is back up\n" + UP_TEXT}


@pytest.mark.parametrize(
    ("event", "priority"),
    [
        ("down", "P1"),
        ("flapping", "P2"),
        ("degraded", "P3"),
        ("certificate_expiring", "P3"),
        ("test", "P5"),
    ],
)
def test_opsgenie_priority_follows_the_event(event: str, priority: str) -> None:
    body = json.loads(
        single(OpsgenieChannel(OFFLINE).render(notice(event=event), opsgenie_config())).body
    )
    assert body["priority"] == priority


def test_opsgenie_message_is_cut_to_130_characters_and_the_alias_is_path_safe() -> None:
    long = notice(monitor=MonitorRef(id="a/b?c", name="n" * 300, url=""))
    channel = OpsgenieChannel(OFFLINE)
    body = json.loads(single(channel.render(long, opsgenie_config())).body)
    assert len(body["message"]) == 130
    assert body["alias"] == "phoenix-a/b?c"
    odd_recovery = notice(event="recovered", monitor=MonitorRef(id="a/b?c", name="x", url=""))
    close = single(channel.render(odd_recovery, opsgenie_config()))
    assert close.url == (
        "https://api.opsgenie.com/v2/alerts/phoenix-a%2Fb%3Fc/close?identifierType=alias"
    )


async def test_opsgenie_a_receiver_gets_the_create_then_the_close() -> None:
    accepted = b'{"result":"Request will be processed","took":0.302,"requestId":"43a29c5c"}'
    receiver = Receiver(Reply(status=202, body=accepted))
    try:
        async with loopback_transport() as transport:
            channel = OpsgenieChannel(transport)
            await channel.send(notice(), opsgenie_config(receiver.url))
            await channel.send(recovered(), opsgenie_config(receiver.url))
        create, close = receiver.received
        assert (create.method, create.path, create.query) == ("POST", "/v2/alerts", {})
        assert create.headers["authorization"] == f"GenieKey {GENIE_KEY}"
        assert create.json()["alias"] == "phoenix-monitor-1"
        assert (close.method, close.path) == ("POST", "/v2/alerts/phoenix-monitor-1/close")
        assert close.query == {"identifierType": ["alias"]}
        assert close.headers["authorization"] == f"GenieKey {GENIE_KEY}"
    finally:
        receiver.close()


# --- Twilio ---------------------------------------------------------------------------------


def twilio_config(url: str = "https://api.twilio.com") -> TwilioConfig:
    return TwilioConfig(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=FROM,
        to_numbers=TO,
        api_url=url,
    )


BASIC = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


def form(request: HttpRequest) -> dict[str, str]:
    return {key: value for key, (value,) in parse_qs(request.body.decode()).items()}


def test_twilio_renders_one_sms_per_number() -> None:
    channel = TwilioChannel(OFFLINE)
    for rendered, body in [
        (channel.render(notice(), twilio_config()), "Shop is down: timeout: the request timed out"),
        (channel.render(recovered(), twilio_config()), "Shop is back up"),
    ]:
        assert isinstance(rendered, list)
        assert len(rendered) == 2
        for request, number in zip(rendered, TO, strict=True):
            assert request.method == "POST"
            assert request.url == (
                f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
            )
            assert request.headers == {
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": BASIC,
            }
            assert form(request) == {"To": number, "From": FROM, "Body": body}


def test_twilio_bodies_stay_short_and_on_one_line() -> None:
    long = notice(reason="a\nb " + "x" * 1000)
    (first, _) = cast(list[HttpRequest], TwilioChannel(OFFLINE).render(long, twilio_config()))
    body = form(first)["Body"]
    assert len(body) == 320
    assert body.startswith("Shop is down: a b xxx")


async def test_twilio_a_receiver_gets_one_message_per_number() -> None:
    created = b'{"sid":"SM123","status":"queued"}'
    receiver = Receiver(Reply(status=201, body=created))
    try:
        async with loopback_transport() as transport:
            await TwilioChannel(transport).send(notice(), twilio_config(receiver.url))
        got = receiver.received
        assert [r.form()["To"] for r in got] == [[n] for n in TO]
        for request in got:
            assert request.method == "POST"
            assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
            assert request.headers["authorization"] == BASIC
            assert request.form()["From"] == [FROM]
    finally:
        receiver.close()


async def test_twilio_one_bad_number_does_not_silence_the_others() -> None:
    invalid = b'{"code":21211,"message":"Invalid \'To\' Phone Number","status":400}'
    receiver = Receiver(Reply(status=400, body=invalid), Reply(status=201, body=b'{"sid":"SM2"}'))
    try:
        async with loopback_transport() as transport:
            with pytest.raises(TransportError) as error:
                await TwilioChannel(transport).send(notice(), twilio_config(receiver.url))
        assert len(receiver.received) == 2  # the second number was still sent
        assert error.value.permanent is True
        assert str(error.value) == (
            "1 of 2 SMS failed: to …1111: HTTP 400: Twilio error 21211: Invalid 'To' Phone Number"
        )
    finally:
        receiver.close()


async def test_twilio_any_transient_failure_makes_the_whole_send_transient() -> None:
    invalid = b'{"code":21211,"message":"Invalid","status":400}'
    busy = b'{"code":20429,"message":"Too Many Requests","status":429}'
    receiver = Receiver(
        Reply(status=400, body=invalid), Reply(status=429, body=busy, headers={"Retry-After": "9"})
    )
    try:
        async with loopback_transport() as transport:
            with pytest.raises(TransportError) as error:
                await TwilioChannel(transport).send(notice(), twilio_config(receiver.url))
        assert error.value.permanent is False
        assert error.value.retry_after == 9.0
    finally:
        receiver.close()


# --- Answers, for all three -----------------------------------------------------------------

Case = tuple[Callable[[Any], HttpChannel], Callable[[str], Any]]
CHANNELS: dict[str, Case] = {
    "pagerduty": (PagerDutyChannel, pagerduty_config),
    "opsgenie": (OpsgenieChannel, opsgenie_config),
    "twilio": (TwilioChannel, twilio_config),
}

PD_INVALID = b'{"status":"invalid event","message":"Event object is invalid","errors":["x"]}'
OG_INVALID = b'{"message":"Request body is not processable","errors":{"message":"empty"}}'
TW_AUTH = b'{"code":20003,"message":"Authenticate","status":401}'
TW_UNKNOWN = b'{"code":20404,"message":"The requested resource was not found","status":404}'

ANSWERS = [
    # (channel, reply, permanent, retry_after, message)
    (
        "pagerduty",
        Reply(status=400, body=PD_INVALID),
        True,
        None,
        "HTTP 400: Event object is invalid; x",
    ),
    ("pagerduty", Reply(status=429, body=b"", headers={"Retry-After": "20"}), False, 20.0, None),
    ("pagerduty", Reply(status=500, body=b""), False, None, "HTTP 500"),
    ("pagerduty", Reply(status=503, body=b"unavailable"), False, None, "HTTP 503: unavailable"),
    (
        "opsgenie",
        Reply(status=422, body=OG_INVALID),
        True,
        None,
        "HTTP 422: Request body is not processable; message: empty",
    ),
    (
        "opsgenie",
        Reply(status=401, body=b'{"message":"Key format is not valid!"}'),
        True,
        None,
        None,
    ),
    ("opsgenie", Reply(status=429, headers={"Retry-After": "3"}), False, 3.0, None),
    ("opsgenie", Reply(status=502, body=b""), False, None, None),
    ("twilio", Reply(status=401, body=TW_AUTH), True, None, None),
    ("twilio", Reply(status=404, body=TW_UNKNOWN), True, None, None),
    ("twilio", Reply(status=429, headers={"Retry-After": "5"}), False, 5.0, None),
    ("twilio", Reply(status=500, body=b""), False, None, None),
]


@pytest.mark.parametrize(("name", "reply", "permanent", "retry_after", "message"), ANSWERS)
async def test_answers_are_classified(
    name: str, reply: Reply, permanent: bool, retry_after: float | None, message: str | None
) -> None:
    make, config = CHANNELS[name]
    receiver = Receiver(reply)
    try:
        async with loopback_transport() as transport:
            with pytest.raises(TransportError) as error:
                await make(transport).send(notice(), config(receiver.url))
        assert error.value.permanent is permanent
        assert error.value.retry_after == retry_after
        assert f"HTTP {reply.status}" in str(error.value)
        if message is not None:
            assert str(error.value) == message
    finally:
        receiver.close()


SECRETS = {
    "pagerduty": [ROUTING_KEY],
    "opsgenie": [GENIE_KEY],
    "twilio": [AUTH_TOKEN, BASIC.removeprefix("Basic ")],
}


@pytest.mark.parametrize("name", sorted(CHANNELS))
@pytest.mark.parametrize("status", [400, 503])
async def test_no_secret_survives_in_an_error_even_when_the_service_echoes_it(
    name: str, status: int
) -> None:
    make, config = CHANNELS[name]
    echoed = " ".join(SECRETS[name])
    receiver = Receiver(
        Reply(status=status, body=json.dumps({"message": echoed, "errors": [echoed]}).encode())
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
