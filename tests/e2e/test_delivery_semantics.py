"""Delivery semantics on the real stack: reminders, retries, failures, crashes, secrets."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
import time
from typing import Any

import httpx
import nats
import psutil
import pytest

from tests.channel_kit import Receiver, Reply
from tests.channels.test_email import Recorder, smtp_server
from tests.e2e.peers import Target
from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in, wait_for_status
from tests.infra import Servers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack_settings() -> dict[str, str]:
    # Short send timeouts: a job held by a dead notifier comes back after 3 x 2 s.
    return {"PHOENIX_SEND_TIMEOUT": "2", "PHOENIX_MAX_DELIVER": "4"}


class Api:
    def __init__(self, stack: RunningStack) -> None:
        self.client = httpx.Client(base_url=stack.base_url, timeout=30)
        self.auth = sign_up_and_log_in(self.client)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.client.post(path, json=body, headers=self.auth)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    def webhook(self, url: str, **config: Any) -> str:
        body = {"name": "hook", "type": "webhook", "config": {"url": url, **config}}
        return str(self.post("/api/v1/notification-channels", body)["id"])

    def rule(self, event: str, channels: list[str], **extra: Any) -> str:
        body = {"name": event, "event": event, "notification_channel_ids": channels, **extra}
        return str(self.post("/api/v1/alert-rules", body)["id"])

    def monitor(self, url: str, **extra: Any) -> str:
        body = {
            "name": "shop",
            "type": "http",
            "url": url,
            "interval": 1,
            "timeout": 0.5,
            "failure_threshold": 1,
            "recovery_threshold": 1,
            **extra,
        }
        return str(self.post("/api/v1/monitors", body)["id"])

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        return list(self.get("/api/v1/deliveries", **filters)["items"])


def wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.received]


def test_down_then_reminders_then_recovery_reach_every_matching_channel_only(
    stack: RunningStack, target: Target
) -> None:
    api = Api(stack)
    first, second, other = Receiver(), Receiver(), Receiver()
    try:
        channels = [api.webhook(first.url + "/a"), api.webhook(second.url + "/b")]
        api.rule("down", channels, resend_interval_seconds=3)
        api.rule("recovered", channels)
        api.rule("degraded", [api.webhook(other.url + "/c")])
        target.status = 500
        monitor = api.monitor(target.url)
        wait(lambda: len(first.received) >= 1, 20, "the down alert")
        down_at = time.monotonic()
        wait(lambda: len(first.received) >= 3, 10, "two reminders")
        # Recover between the second reminder (6 s) and the third (9 s).
        time.sleep(max(0.0, down_at + 7.0 - time.monotonic()))
        target.status = 200
        wait_for_status(api.client, api.auth, monitor, "up", 10)
        wait(lambda: len(first.received) >= 4 and len(second.received) >= 4, 10, "recovery")
        time.sleep(4)  # long enough for a wrongly sent third reminder to show
        for receiver in (first, second):
            sent = [(b["event"], b["resend"]) for b in bodies(receiver)]
            assert sent == [("down", 0), ("down", 1), ("down", 2), ("recovered", 0)], sent
            assert len({b["delivery_id"] for b in bodies(receiver)}) == 4
        assert other.received == []
        log = api.deliveries(monitor_id=monitor)
        assert len(log) == 8
        assert {d["status"] for d in log} == {"sent"}
        assert sorted(d["resend"] for d in log if d["event"] == "down") == [0, 0, 1, 1, 2, 2]
    finally:
        for receiver in (first, second, other):
            receiver.close()


def test_transient_failures_are_retried_and_the_log_counts_attempts(
    stack: RunningStack, target: Target
) -> None:
    api = Api(stack)
    flaky = Receiver(Reply(status=503), Reply(status=429, headers={"Retry-After": "1"}), Reply())
    try:
        api.rule("down", [api.webhook(flaky.url + "/flaky")])
        target.status = 500
        monitor = api.monitor(target.url)
        wait(
            lambda: any(d["status"] == "sent" for d in api.deliveries(monitor_id=monitor)),
            30,
            "sent",
        )
        (delivery,) = api.deliveries(monitor_id=monitor)
        assert delivery["attempts"] == 3
        assert len(flaky.received) == 3
        assert len({r.json()["delivery_id"] for r in flaky.received}) == 1
    finally:
        flaky.close()


def test_a_permanent_failure_is_logged_and_an_operator_can_send_it_again(
    stack: RunningStack, target: Target
) -> None:
    api = Api(stack)
    gone = Receiver(Reply(status=404, body=b"no such hook"), Reply())
    try:
        channel = api.webhook(gone.url + "/gone")
        api.rule("down", [channel])
        target.status = 500
        monitor = api.monitor(target.url)
        wait(
            lambda: any(d["status"] == "failed" for d in api.deliveries(channel_id=channel)),
            20,
            "failed",
        )
        (failed,) = api.deliveries(channel_id=channel)
        assert failed["permanent"] is True
        assert failed["attempts"] == 1  # a 404 is not retried
        assert "404" in failed["last_error"]
        assert failed["monitor_id"] == monitor
        assert failed["incident_id"]
        assert api.deliveries(incident_id=failed["incident_id"])[0]["id"] == failed["id"]
        again = api.post(f"/api/v1/deliveries/{failed['id']}/retry")
        assert again["status"] in ("pending", "sent")
        wait(
            lambda: api.get(f"/api/v1/deliveries/{failed['id']}")["status"] == "sent", 15, "resent"
        )
        assert len(gone.received) == 2
        refused = api.client.post(f"/api/v1/deliveries/{failed['id']}/retry", headers=api.auth)
        assert refused.status_code == 409  # only a failed delivery goes again
        stranger = sign_up_and_log_in(api.client)
        assert (
            api.client.get(f"/api/v1/deliveries/{failed['id']}", headers=stranger).status_code
            == 404
        )
    finally:
        gone.close()


def notifier_process(stack: RunningStack) -> psutil.Process:
    for child in psutil.Process(stack.process.pid).children(recursive=True):
        if "notifier" in " ".join(child.cmdline()) and "phoenix_cli" in " ".join(child.cmdline()):
            return child
    raise AssertionError("no notifier process")


def test_a_notifier_killed_mid_delivery_never_resends_what_it_had_sent(
    stack: RunningStack, target: Target
) -> None:
    api = Api(stack)
    receiver = Receiver()
    try:
        channel = api.webhook(receiver.url + "/hook")
        api.rule("down", [channel])
        target.status = 500
        api.monitor(target.url, name="one")
        api.monitor(target.url, name="two")
        wait(lambda: len(receiver.received) >= 2, 20, "two alerts")
        receiver.hold.clear()  # the next request arrives but is never answered
        api.monitor(target.url, name="three")
        wait(lambda: len(receiver.received) >= 3, 20, "the third alert, in flight")
        victim = notifier_process(stack)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        receiver.hold.set()
        wait(
            lambda: (
                sum(1 for d in api.deliveries(channel_id=channel) if d["status"] == "sent") == 3
            ),
            60,
            "the restarted notifier to finish",
        )
        time.sleep(3)
        ids = [r.json()["delivery_id"] for r in receiver.received]
        first_two, in_flight = ids[:2], ids[2]
        # What was recorded as sent before the crash is never sent again; the one the
        # receiver got but never answered may come once more (the documented window).
        assert all(ids.count(i) == 1 for i in first_two), ids
        assert ids.count(in_flight) in (1, 2), ids
        assert len(ids) <= 4
    finally:
        receiver.close()


def test_channel_secrets_are_masked_kept_on_edit_and_never_stored_in_clear(
    stack: RunningStack, servers: Servers, module_namespace: tuple[str, str], target: Target
) -> None:
    api = Api(stack)
    receiver = Receiver()
    secret = "whsec-very-secret-value"
    try:
        channel = api.webhook(receiver.url + "/signed", secret=secret)
        shown = api.get(f"/api/v1/notification-channels/{channel}")
        assert shown["config"]["secret"] == "********"
        # An edit that sends the mask back keeps the secret.
        edited = api.client.patch(
            f"/api/v1/notification-channels/{channel}",
            json={"config": {"url": receiver.url + "/signed", "secret": "********"}},
            headers=api.auth,
        )
        assert edited.status_code == 200, edited.text
        test = api.post(f"/api/v1/notification-channels/{channel}/test")
        assert test["ok"] is True, test
        (got,) = receiver.wait_for(1)
        stamp = got.headers["x-phoenix-signature"].split(",")[0].removeprefix("t=")
        mac = hmac.new(secret.encode(), f"{stamp}.".encode() + got.body, hashlib.sha256)
        assert got.headers["x-phoenix-signature"] == f"t={stamp},v1={mac.hexdigest()}"
        namespace, _ = module_namespace
        assert secret not in asyncio.run(_event_log_text(servers.nats_url, namespace))
        stack.secrets.append(secret)  # and not in any log line either
    finally:
        receiver.close()


async def _event_log_text(nats_url: str, namespace: str) -> str:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        stream = f"{namespace.upper().replace('-', '_')}_EVENTS"
        info = await js.stream_info(stream)
        texts = []
        for sequence in range(1, info.state.last_seq + 1):
            message = await js.get_msg(stream, sequence)
            texts.append((message.data or b"").decode(errors="replace"))
        return "\n".join(texts)
    finally:
        await nc.close()


class ScriptedSmtp(Recorder):
    """Answers DATA from a script (a 421, say) before accepting."""

    def __init__(self, *replies: str) -> None:
        super().__init__()
        self.script = list(replies)
        self.tries = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.script:
            return self.script.pop(0)
        return await super().handle_DATA(server, session, envelope)


def email_channel(api: Api, port: int) -> str:
    config = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": "phoenix@example.com",
        "to": ["oncall@example.com"],
    }
    return str(
        api.post(
            "/api/v1/notification-channels", {"name": "mail", "type": "email", "config": config}
        )["id"]
    )


def test_email_end_to_end_a_421_is_retried_and_a_550_is_not(
    stack: RunningStack, target: Target
) -> None:
    api = Api(stack)
    busy, refusing = (
        ScriptedSmtp("421 4.3.2 try again later"),
        ScriptedSmtp("550 5.1.1 no such user"),
    )
    with smtp_server(busy) as busy_port, smtp_server(refusing) as refusing_port:
        retried, refused = email_channel(api, busy_port), email_channel(api, refusing_port)
        api.rule("down", [retried, refused])
        target.status = 500
        monitor = api.monitor(target.url, name="Shop\r\nBcc: evil@example.com")

        def settled() -> bool:
            states = {d["channel_id"]: d["status"] for d in api.deliveries(monitor_id=monitor)}
            return states.get(retried) == "sent" and states.get(refused) == "failed"

        wait(settled, 30, "one email sent after a 421, one refused for good")
        by_channel = {d["channel_id"]: d for d in api.deliveries(monitor_id=monitor)}
        assert by_channel[retried]["attempts"] == 2
        assert by_channel[refused]["attempts"] == 1
        assert by_channel[refused]["permanent"] is True
        assert "550" in by_channel[refused]["last_error"]
        assert (busy.tries, refusing.tries) == (2, 1)
        (mail,) = busy.received
        message = mail.message
        assert message["Subject"].startswith("[Phoenix] Shop")
        assert message["Bcc"] is None  # the CR/LF in the name added no header
        assert mail.rcpt_tos == ["oncall@example.com"]


def test_after_the_last_attempt_a_transient_failure_is_logged_failed_and_dead_lettered(
    stack: RunningStack, target: Target, servers: Servers, module_namespace: tuple[str, str]
) -> None:
    api = Api(stack)
    down = Receiver(Reply(status=503, body=b"overloaded"))
    try:
        channel = api.webhook(down.url + "/down")
        api.rule("down", [channel])
        target.status = 500
        api.monitor(target.url)
        wait(
            lambda: any(d["status"] == "failed" for d in api.deliveries(channel_id=channel)),
            40,
            "the delivery to be given up",
        )
        (failed,) = api.deliveries(channel_id=channel)
        assert failed["attempts"] == 4  # PHOENIX_MAX_DELIVER in this stack
        assert failed["permanent"] is False
        assert "503" in failed["last_error"]
        assert len(down.received) == 4
        namespace, _ = module_namespace
        parked = asyncio.run(_dead_letters(servers.nats_url, namespace))
        assert any(failed_key_in(text, down) for text in parked)
    finally:
        down.close()


def failed_key_in(text: str, receiver: Receiver) -> bool:
    return receiver.received[0].json()["delivery_id"] in text


async def _dead_letters(nats_url: str, namespace: str) -> list[str]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        stream = f"{namespace.upper().replace('-', '_')}_DLQ"
        info = await js.stream_info(stream)
        return [
            ((await js.get_msg(stream, seq)).data or b"").decode(errors="replace")
            for seq in range(info.state.first_seq, info.state.last_seq + 1)
        ]
    finally:
        await nc.close()
