"""Every service's ``/metrics``, scraped after a monitor went down and recovered.

The stack is this module's own, so every counter below starts at zero and
moves only for what this test did: one monitor, one webhook channel, one
outage. Service ports come from what ``phoenix dev`` printed when it started.
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.peers import Target, WebhookSink
from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import alert_to_webhook, sign_up_and_log_in, wait_for_status

pytestmark = pytest.mark.e2e

SERVICES = ("gateway", "auth", "scheduler", "executor", "evaluator", "notifier")
_STATUS_LINE = re.compile(r"^\s+(\w+)\s+ready\s+pid \d+\s+metrics (http://\S+)$", re.M)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def metrics_urls(stack: RunningStack) -> dict[str, str]:
    return dict(_STATUS_LINE.findall(stack.log()))


def scrape(url: str) -> Samples:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def scrape_when(url: str, settled: Callable[[Samples], bool], timeout: float = 10) -> Samples:
    """Scrape until ``settled`` (a service counts right after the effect others already
    see, e.g. the notifier after the webhook answered); the last scrape either way."""
    deadline = time.monotonic() + timeout
    samples = scrape(url)
    while not settled(samples) and time.monotonic() < deadline:
        time.sleep(0.1)
        samples = scrape(url)
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 when the series does not exist (nothing counted yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for sample, labels in samples if sample == name]


def test_every_service_reports_what_an_outage_and_its_recovery_did(
    stack: RunningStack, target: Target, sink: WebhookSink
) -> None:
    urls = metrics_urls(stack)
    assert sorted(urls) == sorted(SERVICES), stack.log()
    assert not urls["gateway"].startswith(stack.base_url), "the gateway's /metrics is public"

    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    alert_to_webhook(client, auth, sink.url + "hook")
    created = client.post(
        "/api/v1/monitors",
        json={"name": "shop", "type": "http", "url": target.url, "interval": 1, "timeout": 0.8},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    monitor_id = created.json()["id"]
    wait_for_status(client, auth, monitor_id, "up", timeout=20)
    target.status = 500
    wait_for_status(client, auth, monitor_id, "down", timeout=30)
    target.status = 200
    wait_for_status(client, auth, monitor_id, "up", timeout=30)
    assert [body["event"] for body in sink.wait_for(2, timeout=15)] == ["down", "recovered"]
    missing = "/api/v1/nothing-here/" + str(uuid.uuid4())
    assert client.get(missing, headers=auth).status_code == 404

    # Downstream first: whatever the executor counted, the scheduler had published before.
    scraped = {
        "notifier": scrape_when(
            urls["notifier"],
            lambda s: value(s, "phoenix_deliveries_total", channel="webhook", outcome="sent") >= 2,
        ),
        "evaluator": scrape_when(
            urls["evaluator"],
            lambda s: value(s, "phoenix_status_changes_total", status="up") >= 2,
        ),
    }
    for name in ("executor", "scheduler", "gateway", "auth"):
        scraped[name] = scrape(urls[name])

    for name, samples in scraped.items():
        assert [s["service"] for s in series(samples, "phoenix_build_info")] == [name]

    # Executor: every check counted by outcome; each one that ran was timed.
    executor = scraped["executor"]
    down = value(executor, "phoenix_checks_total", type="http", outcome="down")
    up = value(executor, "phoenix_checks_total", type="http", outcome="up")
    assert down >= 3  # the default failure threshold
    assert up >= 3  # pending → up, then the recovery threshold of 2
    timed = value(executor, "phoenix_check_duration_seconds_count", type="http")
    assert timed == up + down  # checks skipped as stale never run and are not timed
    skipped = value(executor, "phoenix_checks_total", type="http", outcome="skipped")
    in_flight = value(executor, "phoenix_checks_in_flight")
    assert in_flight in (0.0, 1.0)
    # Lateness is observed as a job starts, the outcome counted once it is known.
    started = up + down + skipped + in_flight
    assert value(executor, "phoenix_check_start_lateness_seconds_count") == started

    # Scheduler: it leads, published every job with its lateness, schedules one monitor.
    scheduler = scraped["scheduler"]
    assert value(scheduler, "phoenix_scheduler_leader") == 1
    assert value(scheduler, "phoenix_scheduler_monitors") == 1
    jobs = value(scheduler, "phoenix_scheduler_jobs_total")
    assert jobs >= up + down
    assert value(scheduler, "phoenix_scheduler_lateness_seconds_count") == jobs
    assert value(scheduler, "phoenix_scheduler_lateness_seconds_bucket", le="+Inf") == jobs

    # Evaluator: pending → up, up → down, down → up.
    evaluator = scraped["evaluator"]
    assert value(evaluator, "phoenix_status_changes_total", status="up") == 2
    assert value(evaluator, "phoenix_status_changes_total", status="down") == 1
    assert value(evaluator, "phoenix_result_to_status_seconds_count") == 3
    assert value(evaluator, "phoenix_results_judged_total") >= 6

    # Notifier: the down and the recovered alert, each sent once and timed.
    notifier = scraped["notifier"]
    assert value(notifier, "phoenix_deliveries_total", channel="webhook", outcome="sent") == 2
    for outcome in ("failed", "retried", "skipped"):
        assert value(notifier, "phoenix_deliveries_total", channel="webhook", outcome=outcome) == 0
    assert value(notifier, "phoenix_delivery_duration_seconds_count", channel="webhook") == 2

    # Gateway: requests by route template; ids never make a series of their own.
    gateway = scraped["gateway"]
    requests = series(gateway, "phoenix_http_requests_total")
    routes = {r["route"] for r in requests}
    assert "/api/v1/monitors/{monitor_id}" in routes
    assert "unmatched" in routes
    assert not [route for route in routes if monitor_id in route or "nothing-here" in route]
    polls = value(
        gateway,
        "phoenix_http_requests_total",
        method="GET",
        route="/api/v1/monitors/{monitor_id}",
        status="200",
    )
    assert polls >= 3  # wait_for_status read the monitor until each status showed
    assert (
        value(
            gateway,
            "phoenix_http_requests_total",
            method="POST",
            route="/api/v1/monitors",
            status="201",
        )
        == 1
    )
    assert (
        value(gateway, "phoenix_http_requests_total", method="GET", route="unmatched", status="404")
        == 1
    )
    assert (
        value(
            gateway,
            "phoenix_http_request_duration_seconds_count",
            method="GET",
            route="/api/v1/monitors/{monitor_id}",
        )
        >= polls
    )

    # Every service that follows the log says how far behind it is.
    for name in ("gateway", "auth", "scheduler", "evaluator", "notifier"):
        lag = series(scraped[name], "phoenix_follower_lag_events")
        assert lag, name
        assert {s["service"] for s in lag} == {name}


def outward_address() -> str | None:
    """This machine's address on its default route, if it has one besides loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: UDP sends nothing here
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_the_gateway_serves_no_metrics_on_its_api_port(stack: RunningStack) -> None:
    # Last in this module: its 404 would count in the gateway's request metrics above.
    assert httpx.get(stack.base_url + "/metrics", timeout=10).status_code == 404


def test_health_and_metrics_ports_answer_on_loopback_only(stack: RunningStack) -> None:
    urls = metrics_urls(stack)
    assert sorted(urls) == sorted(SERVICES), stack.log()
    for name, url in urls.items():
        assert httpx.get(url, timeout=10).status_code == 200, name
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback to try the ports from")
    for name, url in urls.items():
        port = httpx.URL(url).port
        assert port is not None
        assert not answers(address, port), f"{name}'s health port answers on {address}"


def answers(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=3).close()
    except OSError:
        return False
    return True
