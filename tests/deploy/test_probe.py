"""The images' health check: ``python -m phoenix_platform.probe VARIABLE DEFAULT``."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from phoenix_platform.probe import main, port_of


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_variable_wins_over_the_default() -> None:
    assert port_of("PHOENIX_HEALTH_PORT", "8084", {"PHOENIX_HEALTH_PORT": "9000"}) == 9000
    assert port_of("PHOENIX_HEALTH_PORT", "8084", {"PHOENIX_HEALTH_PORT": ""}) == 8084
    assert port_of("PHOENIX_HEALTH_PORT", "8084", {}) == 8084
    with pytest.raises(ValueError, match="out of range"):
        port_of("PHOENIX_HEALTH_PORT", "8084", {"PHOENIX_HEALTH_PORT": "0"})


def test_healthy_when_healthz_answers_200(server: int) -> None:
    assert main(["PHOENIX_HEALTH_PORT", "1"], {"PHOENIX_HEALTH_PORT": str(server)}) == 0
    assert main(["PHOENIX_HEALTH_PORT", str(server)], {}) == 0


def test_unhealthy_on_another_answer_or_none(server: int) -> None:
    assert main(["X", str(server), "/readyz"], {}) == 1
    assert main(["X", "1"], {}) == 1  # nothing listens on port 1 of the loopback


def test_bad_arguments_exit_2() -> None:
    assert main([], {}) == 2
    assert main(["X", "not-a-port"], {}) == 2


def test_runs_as_a_module(server: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "phoenix_platform.probe", "PHOENIX_GATEWAY_PORT", str(server)],
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
