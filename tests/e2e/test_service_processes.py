"""Each service as the container would run it: ``phoenix run <service>``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import free_port
from tests.infra import Servers

pytestmark = pytest.mark.e2e

SERVICES = ["gateway", "auth", "scheduler", "executor", "evaluator", "notifier"]
FOLLOWERS = {
    "gateway": "projection",
    "auth": "projection",
    "notifier": "projection",
    "scheduler": "schedule",
    "evaluator": "state",
}


def run_service(service: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "phoenix_cli", "run", service],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(
    ("service", "variable", "value"),
    [
        ("executor", "PHOENIX_HEALTH_PORT", "eighty"),
        ("executor", "PHOENIX_ALLOW_PRIVATE_TARGETS", "10.0.0.0/8,not-a-network"),
        ("gateway", "PHOENIX_MIN_INTERVAL", "0"),
        ("auth", "PHOENIX_SIGNUP_MODE", "everyone"),
        ("scheduler", "PHOENIX_LOG_FORMAT", "xml"),
        ("notifier", "PHOENIX_NAMESPACE", "Has Spaces"),
    ],
)
def test_a_bad_setting_stops_the_service_with_one_line_naming_it(
    service: str, variable: str, value: str
) -> None:
    process = run_service(service, {variable: value})
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert variable in lines[0]


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reports_ready_and_exits_cleanly_on_sigterm(
    service: str, servers: Servers, namespace: str, database_url: str
) -> None:
    port = free_port()
    # /metrics is on the health port; the gateway's is not its API port
    metrics_port = free_port() if service == "gateway" else port
    env = {
        "PHOENIX_NATS_URL": servers.nats_url,
        "PHOENIX_DATABASE_URL": database_url,
        "PHOENIX_REDIS_URL": servers.redis_url,
        "PHOENIX_NAMESPACE": namespace,
        "PHOENIX_HEALTH_PORT": str(metrics_port),
        "PHOENIX_GATEWAY_PORT": str(port),
    }
    process = run_service(service, env)
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert ready is not None
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert checks["nats"] is True
        follower = FOLLOWERS.get(service)
        if follower:  # how far behind the event log it is, reported beside the checks
            lag = ready.json()["details"][follower]
            assert set(lag) == {"applied", "newest", "lag", "stalled_seconds"}
            assert lag["stalled_seconds"] == 0
            assert lag["lag"] == max(0, lag["newest"] - lag["applied"])
            exposed = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
            assert exposed.headers["content-type"].startswith("text/plain")
            gauge = f'phoenix_follower_lag_events{{service="{service}",follower="{follower}"}}'
            assert gauge in exposed.text
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_gateway_exits_non_zero_when_its_port_is_taken(
    servers: Servers, namespace: str, database_url: str
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = run_service(
            "gateway",
            {
                "PHOENIX_NATS_URL": servers.nats_url,
                "PHOENIX_DATABASE_URL": database_url,
                "PHOENIX_REDIS_URL": servers.redis_url,
                "PHOENIX_NAMESPACE": namespace,
                "PHOENIX_GATEWAY_PORT": str(port),
            },
        )
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "PHOENIX_GATEWAY_PORT" in stderr.decode()


def test_phoenix_dev_refuses_a_taken_gateway_port_before_starting_anything(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "phoenix_cli", "dev"],
            env={**os.environ, "PHOENIX_GATEWAY_PORT": str(port)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert f"port {port} is taken" in result.stderr
    assert not (tmp_path / ".phoenix").exists()  # no server was started
