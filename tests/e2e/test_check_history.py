"""Check history and statistics end to end: real checks of a local target that fails for a while."""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import nats
import pytest
from phoenix_contracts.checks import CheckCompleted, Timings
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.codec import encode

from tests.e2e.peers import Target
from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in
from tests.infra import Servers

pytestmark = pytest.mark.e2e


def all_checks(client: httpx.Client, auth: dict[str, str], monitor_id: str) -> list[dict[str, Any]]:
    page = client.get(f"/api/v1/monitors/{monitor_id}/checks?limit=500", headers=auth)
    assert page.status_code == 200, page.text
    assert page.json()["next_cursor"] is None
    items: list[dict[str, Any]] = page.json()["items"]
    return items


def wait_for_checks(
    client: httpx.Client, auth: dict[str, str], monitor_id: str, outcome: str, count: int
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = all_checks(client, auth, monitor_id)
        if sum(1 for c in items if c["outcome"] == outcome) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} {outcome} checks recorded")


@pytest.fixture(scope="module")
def recorded(stack: RunningStack) -> dict[str, Any]:
    """A monitor checked every second: up, then down (HTTP 500), then up; then paused."""
    target = Target()
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    monitor = client.post(
        "/api/v1/monitors",
        json={"name": "flip", "type": "http", "url": target.url, "interval": 1, "timeout": 0.8},
        headers=auth,
    ).json()
    wait_for_checks(client, auth, monitor["id"], "up", 4)
    target.status = 500
    wait_for_checks(client, auth, monitor["id"], "down", 4)
    target.status = 200
    ups = sum(1 for c in all_checks(client, auth, monitor["id"]) if c["outcome"] == "up")
    wait_for_checks(client, auth, monitor["id"], "up", ups + 3)
    paused = client.post(f"/api/v1/monitors/{monitor['id']}/pause", headers=auth)
    assert paused.status_code == 200, paused.text
    time.sleep(2.5)  # a check already running when it was paused lands now
    target.close()
    return {"client": client, "auth": auth, "monitor": monitor}


def test_walking_the_cursor_visits_every_check_once_newest_first(
    recorded: dict[str, Any],
) -> None:
    client, auth, monitor = recorded["client"], recorded["auth"], recorded["monitor"]
    everything = all_checks(client, auth, monitor["id"])
    assert len(everything) >= 11
    walked: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"/api/v1/monitors/{monitor['id']}/checks", params=params, headers=auth)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 3
        walked += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [c["id"] for c in walked] == [c["id"] for c in everything]  # no gap, no duplicate
    assert len({c["id"] for c in walked}) == len(walked)
    assert pages == -(-len(everything) // 3)
    times = [c["checked_at"] for c in walked]
    assert times == sorted(times, reverse=True)
    down = [c for c in everything if c["outcome"] == "down"]
    assert down
    assert all(c["status_code"] == 500 for c in down)
    assert all(c["region"] == "default" for c in everything)


def test_the_outcome_and_time_filters_narrow_the_history(recorded: dict[str, Any]) -> None:
    client, auth, monitor = recorded["client"], recorded["auth"], recorded["monitor"]
    everything = all_checks(client, auth, monitor["id"])
    path = f"/api/v1/monitors/{monitor['id']}/checks"
    downs = client.get(path, params={"outcome": "down", "limit": 500}, headers=auth).json()
    assert [c["id"] for c in downs["items"]] == [
        c["id"] for c in everything if c["outcome"] == "down"
    ]
    middle = everything[len(everything) // 2]["checked_at"]
    older = client.get(path, params={"until": middle, "limit": 500}, headers=auth).json()
    assert older["items"]
    assert all(c["checked_at"] < middle for c in older["items"])
    newer = client.get(path, params={"since": middle, "limit": 500}, headers=auth).json()
    assert len(older["items"]) + len(newer["items"]) == len(everything)


def test_hour_buckets_count_what_the_history_shows(recorded: dict[str, Any]) -> None:
    client, auth, monitor = recorded["client"], recorded["auth"], recorded["monitor"]
    everything = [c for c in all_checks(client, auth, monitor["id"]) if c["outcome"] != "skipped"]
    stats = client.get(f"/api/v1/monitors/{monitor['id']}/stats", headers=auth)
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert body["period"] == "hour"
    assert 24 <= len(body["buckets"]) <= 25  # the last 24 hours, by the hour, dense
    filled = [b for b in body["buckets"] if b["total"]]
    assert 1 <= len(filled) <= 2  # the checks ran within a minute, maybe across an hour
    ups = [c for c in everything if c["outcome"] == "up"]
    downs = [c for c in everything if c["outcome"] == "down"]
    assert sum(b["total"] for b in filled) == len(everything)
    assert sum(b["up"] for b in filled) == len(ups)
    assert sum(b["down"] for b in filled) == len(downs)
    # interval 1 s, one region: each failed check is one second of downtime.
    assert sum(b["downtime_seconds"] for b in filled) == len(downs)
    assert body["uptime_percentage"] == round(100 * len(ups) / len(everything), 3)
    latencies = [c["response_ms"] for c in ups]
    assert min(b["min_response_ms"] for b in filled) == pytest.approx(min(latencies))
    assert max(b["max_response_ms"] for b in filled) == pytest.approx(max(latencies))
    if len(filled) == 1:
        assert filled[0]["avg_response_ms"] == pytest.approx(sum(latencies) / len(latencies))
        assert filled[0]["uptime_percentage"] == body["uptime_percentage"]
    empty = [b for b in body["buckets"] if not b["total"]]
    assert all(b["uptime_percentage"] is None and b["downtime_seconds"] == 0 for b in empty)

    days = client.get(
        f"/api/v1/monitors/{monitor['id']}/stats", params={"period": "day"}, headers=auth
    ).json()
    assert 30 <= len(days["buckets"]) <= 31
    assert sum(b["total"] for b in days["buckets"]) == len(everything)
    assert days["uptime_percentage"] == body["uptime_percentage"]


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"period": "week"}, 400, None),
        ({"since": "yesterday"}, 422, "since"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 422, "since"),
        ({"since": "2025-01-01T00:00:00Z", "until": "2025-03-01T00:00:00Z"}, 422, "since"),
        (
            {"period": "day", "since": "2020-01-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"},
            422,
            "since",
        ),
    ],
)
def test_bad_stats_parameters_are_refused_clearly(
    recorded: dict[str, Any], params: dict[str, str], status: int, field: str | None
) -> None:
    client, auth, monitor = recorded["client"], recorded["auth"], recorded["monitor"]
    answer = client.get(f"/api/v1/monitors/{monitor['id']}/stats", params=params, headers=auth)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if field:
        assert answer.json()["errors"][0]["field"] == field


def test_bad_history_parameters_are_refused(recorded: dict[str, Any]) -> None:
    client, auth, monitor = recorded["client"], recorded["auth"], recorded["monitor"]
    path = f"/api/v1/monitors/{monitor['id']}/checks"
    assert client.get(path, params={"limit": 501}, headers=auth).status_code == 400
    assert client.get(path, params={"limit": 0}, headers=auth).status_code == 400
    assert client.get(path, params={"outcome": "maybe"}, headers=auth).status_code == 400
    bad_cursor = client.get(path, params={"cursor": "not-a-cursor"}, headers=auth)
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["errors"][0]["field"] == "cursor"


def test_another_organization_sees_neither_checks_nor_stats(recorded: dict[str, Any]) -> None:
    client, monitor = recorded["client"], recorded["monitor"]
    stranger = sign_up_and_log_in(client)
    for path in ("checks", "stats"):
        answer = client.get(f"/api/v1/monitors/{monitor['id']}/{path}", headers=stranger)
        assert answer.status_code == 404, answer.text
    missing = client.get(f"/api/v1/monitors/{uuid.uuid4()}/checks", headers=recorded["auth"])
    assert missing.status_code == 404
    anonymous = httpx.Client(base_url=client.base_url).get(
        f"/api/v1/monitors/{monitor['id']}/checks"
    )
    assert anonymous.status_code == 401  # (the shared client carries the last login's cookie)


async def test_a_result_delivered_twice_is_recorded_once(
    recorded: dict[str, Any], servers: Servers, module_namespace: tuple[str, str]
) -> None:
    client, auth, monitor = recorded["client"], recorded["auth"], recorded["monitor"]
    subjects = Subjects(module_namespace[0])
    now = datetime.now(UTC) - timedelta(minutes=5)
    result = CheckCompleted(
        result_id=str(uuid.uuid4()),
        job_id="replayed",
        monitor_id=monitor["id"],
        organization_id=client.get("/api/v1/account/me", headers=auth).json()["organization_id"],
        region="default",
        due_at=now,
        started_at=now,
        finished_at=now,
        outcome="up",
        timings=Timings(total_ms=12.5),
    )
    nc = await nats.connect(servers.nats_url)
    try:
        js = nc.jetstream()
        for attempt in range(2):  # distinct message ids: the server keeps both copies
            await js.publish(
                subjects.result(monitor["id"]),
                encode(result),
                headers={"Nats-Msg-Id": f"{result.result_id}-{attempt}"},
            )
    finally:
        await nc.close()
    deadline = time.monotonic() + 10
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = [c for c in all_checks(client, auth, monitor["id"]) if c["id"] == result.result_id]
        if found:
            break
        time.sleep(0.2)
    time.sleep(1)  # let the second copy land too
    found = [c for c in all_checks(client, auth, monitor["id"]) if c["id"] == result.result_id]
    assert len(found) == 1
    assert found[0]["response_ms"] == 12.5


def test_uptime_answers_every_window_and_a_chosen_range(recorded: dict[str, Any]) -> None:
    client, auth, monitor = recorded["client"], recorded["auth"], recorded["monitor"]
    everything = [c for c in all_checks(client, auth, monitor["id"]) if c["outcome"] != "skipped"]
    expected = round(100 * sum(1 for c in everything if c["outcome"] == "up") / len(everything), 3)
    path = f"/api/v1/monitors/{monitor['id']}/uptime"
    answer = client.get(path, headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body["windows"]) == {"24h", "7d", "30d", "90d", "365d"}
    assert set(body["windows"].values()) == {expected}
    assert body["range"] is None
    now = datetime.now(UTC)
    ranged = client.get(
        path,
        params={"since": (now - timedelta(hours=2)).isoformat(), "until": now.isoformat()},
        headers=auth,
    ).json()["range"]
    assert ranged["resolution"] == "minute"
    assert ranged["checks"] == len(everything)
    assert ranged["uptime_percentage"] == expected
    empty = client.get(
        path,
        params={"since": "2020-01-01T00:00:00Z", "until": "2020-02-01T00:00:00Z"},
        headers=auth,
    ).json()["range"]
    assert empty == empty | {"resolution": "day", "checks": 0, "uptime_percentage": None}


@pytest.mark.parametrize(("resolution", "points"), [("minute", 60), ("hour", 24), ("day", 1)])
def test_response_times_come_as_a_dense_series_at_the_chosen_resolution(
    recorded: dict[str, Any], resolution: str, points: int
) -> None:
    client, auth, monitor = recorded["client"], recorded["auth"], recorded["monitor"]
    ups = [c for c in all_checks(client, auth, monitor["id"]) if c["outcome"] == "up"]
    now = datetime.now(UTC)
    since = now - {"minute": timedelta(hours=1), "hour": timedelta(hours=24)}.get(
        resolution, timedelta(hours=1)
    )
    answer = client.get(
        f"/api/v1/monitors/{monitor['id']}/response-times",
        params={"resolution": resolution, "since": since.isoformat(), "until": now.isoformat()},
        headers=auth,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["resolution"] == resolution
    assert points <= len(body["points"]) <= points + 1
    filled = [p for p in body["points"] if p["checks"]]
    assert sum(p["checks"] for p in filled) == len(ups)
    assert min(p["min_ms"] for p in filled) == pytest.approx(min(c["response_ms"] for c in ups))
    assert max(p["max_ms"] for p in filled) == pytest.approx(max(c["response_ms"] for c in ups))
    for p in filled:
        assert p["min_ms"] <= p["p50_ms"] <= p["p95_ms"] <= p["p99_ms"] <= p["max_ms"]
    too_long = client.get(
        f"/api/v1/monitors/{monitor['id']}/response-times",
        params={
            "resolution": "minute",
            "since": "2026-01-01T00:00:00Z",
            "until": "2026-01-03T00:00:00Z",
        },
        headers=auth,
    )
    assert too_long.status_code == 422


def test_the_sla_report_comes_as_json_and_as_csv(recorded: dict[str, Any]) -> None:
    client, auth, monitor = recorded["client"], recorded["auth"], recorded["monitor"]
    everything = [c for c in all_checks(client, auth, monitor["id"]) if c["outcome"] != "skipped"]
    downs = sum(1 for c in everything if c["outcome"] == "down")
    report = client.get("/api/v1/reports/sla", params={"monitor_id": monitor["id"]}, headers=auth)
    assert report.status_code == 200, report.text
    (line,) = report.json()["monitors"]
    assert line["monitor_id"] == monitor["id"]
    assert line["name"] == "flip"
    assert (line["checks"], line["down"]) == (len(everything), downs)
    assert line["downtime_seconds"] == downs  # interval 1 s, one region
    assert line["incidents"] >= 0
    as_csv = client.get(
        "/api/v1/reports/sla", params={"monitor_id": monitor["id"], "format": "csv"}, headers=auth
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == 1
    assert rows[0]["monitor_id"] == monitor["id"]
    assert int(rows[0]["checks"]) == len(everything)
    assert float(rows[0]["uptime_percentage"]) == line["uptime_percentage"]
    tag = client.get("/api/v1/reports/sla", params={"tag": str(uuid.uuid4())}, headers=auth)
    assert tag.status_code == 200
    assert tag.json()["monitors"] == []
    neither = client.get("/api/v1/reports/sla", headers=auth)
    assert neither.status_code == 422


def test_another_organization_gets_no_report_of_the_monitor(recorded: dict[str, Any]) -> None:
    client, monitor = recorded["client"], recorded["monitor"]
    stranger = sign_up_and_log_in(client)
    for path in ("uptime", "response-times"):
        answer = client.get(f"/api/v1/monitors/{monitor['id']}/{path}", headers=stranger)
        assert answer.status_code == 404, answer.text
    report = client.get(
        "/api/v1/reports/sla", params={"monitor_id": monitor["id"]}, headers=stranger
    )
    assert report.status_code == 404
