"""The benchmark's webhook sink, fed the notifier's real payload."""

from __future__ import annotations

import http.client
import time
import urllib.parse
from datetime import UTC, datetime

from phoenix_bench.record import Notification
from phoenix_bench.sink import start_sink
from phoenix_notifier.channels.webhook import payload_of
from phoenix_notifier.message import Notice


def post(url: str, body: bytes) -> int:
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("POST", parts.path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def notice(event: str, monitor_id: str, occurred_at: datetime) -> Notice:
    return Notice(
        event=event,
        title=f"{event}: checkout",
        text="HTTP 500",
        monitor_id=monitor_id,
        monitor_name="checkout",
        monitor_url="https://127.0.0.1:1/t/3",
        status="down" if event == "down" else "up",
        previous_status="up" if event == "down" else "down",
        reason="HTTP 500",
        occurred_at=occurred_at,
        incident_id="inc-1",
        delivery_id=f"delivery-{event}",
        alert_rule_id="rule-1",
    )


def test_the_sink_records_real_webhook_payloads() -> None:
    occurred = datetime(2026, 5, 9, 7, 35, 25, 250000, tzinfo=UTC)
    with start_sink() as sink:
        before = time.time()
        assert post(sink.url, payload_of(notice("down", "mon-1", occurred))) == 200
        assert post(sink.url, payload_of(notice("recovered", "mon-1", occurred))) == 200
        after = time.time()
        assert post(sink.url, b"{not json") == 400
        got = sink.notifications()
    assert [(n.monitor_id, n.event, n.occurred) for n in got] == [
        ("mon-1", "down", occurred.timestamp()),
        ("mon-1", "recovered", occurred.timestamp()),
    ]
    assert all(isinstance(n, Notification) and before <= n.received <= after for n in got)
    assert got[0].received <= got[1].received
    assert sink.rejected == 1
