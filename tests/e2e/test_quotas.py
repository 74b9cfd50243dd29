"""Per-organization quotas: how many monitors and maintenance windows, how often checks run."""

from __future__ import annotations

import pytest

from tests.e2e.stack import RunningStack
from tests.e2e.test_organizations import User

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack_settings() -> dict[str, str]:
    return {
        "PHOENIX_MAX_MONITORS": "2",
        "PHOENIX_MIN_INTERVAL": "30",
        "PHOENIX_MAX_MAINTENANCE_WINDOWS": "2",
    }


def monitor(name: str, interval: int = 60) -> dict[str, object]:
    return {"name": name, "type": "http", "url": "http://127.0.0.1:9/", "interval": interval}


def test_an_organization_cannot_pass_its_monitor_limit(stack: RunningStack) -> None:
    user = User(stack)
    for name in ("one", "two"):
        assert user.call("POST", "/api/v1/monitors", json=monitor(name)).status_code == 201
    third = user.call("POST", "/api/v1/monitors", json=monitor("three"))
    assert third.status_code == 422
    assert third.headers["content-type"].startswith("application/problem+json")
    assert "limit of 2 monitors" in third.json()["detail"]
    # The limit is per organization: another one starts from zero.
    team = user.call("POST", "/api/v1/organizations", json={"name": "second"}).json()["id"]
    assert user.call("POST", "/api/v1/monitors", org=team, json=monitor("x")).status_code == 201
    # Deleting frees a place.
    first = user.call("GET", "/api/v1/monitors").json()["items"][0]["id"]
    assert user.call("DELETE", f"/api/v1/monitors/{first}").status_code == 204
    assert user.call("POST", "/api/v1/monitors", json=monitor("three")).status_code == 201


def test_the_minimum_interval_is_enforced_with_a_field_error(stack: RunningStack) -> None:
    user = User(stack)
    fast = user.call("POST", "/api/v1/monitors", json=monitor("fast", interval=10))
    assert fast.status_code == 422
    assert fast.json()["errors"] == [
        {"field": "interval", "message": "must be at least 30 seconds"}
    ]


def test_an_organization_cannot_pass_its_maintenance_window_limit(stack: RunningStack) -> None:
    # Every window is weighed on every check result of the organization's monitors.
    user = User(stack)
    never = {"title": "never", "strategy": "cron", "cron": "0 0 31 2 *", "duration_seconds": 604800}
    for _ in range(2):
        assert user.call("POST", "/api/v1/maintenance-windows", json=never).status_code == 201
    third = user.call("POST", "/api/v1/maintenance-windows", json=never)
    assert third.status_code == 422
    assert third.headers["content-type"].startswith("application/problem+json")
    assert "limit of 2 maintenance windows" in third.json()["detail"]
    first = user.call("GET", "/api/v1/maintenance-windows").json()["items"][0]["id"]
    assert user.call("DELETE", f"/api/v1/maintenance-windows/{first}").status_code == 204
    assert user.call("POST", "/api/v1/maintenance-windows", json=never).status_code == 201
