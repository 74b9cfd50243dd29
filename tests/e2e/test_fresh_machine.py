"""``phoenix dev`` on a machine with nothing running: it brings its own servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e.stack import start_stack

pytestmark = pytest.mark.e2e

SERVER_BINARIES = ("nats-server", "postgres", "valkey-server")


def without_server_urls() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PHOENIX_NATS_URL", "PHOENIX_DATABASE_URL", "PHOENIX_REDIS_URL")
    }


def test_phoenix_dev_starts_embedded_servers_serves_the_api_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("PHOENIX_NATS_URL", "PHOENIX_DATABASE_URL", "PHOENIX_REDIS_URL"):
        monkeypatch.delenv(variable, raising=False)
    stack = start_stack({}, tmp_path / "dev.log", cwd=tmp_path)
    try:
        log = stack.log()
        assert "starting embedded nats, postgres, redis" in log
        children = psutil.Process(stack.process.pid).children(recursive=True)
        names = {p.name() for p in children}
        assert {"nats-server", "valkey-server"} <= names
        assert any(n.startswith("postgres") for n in names)
        # None of them took the well-known ports a system service may hold.
        for proc in children:
            if proc.name() in SERVER_BINARIES:
                ports = {
                    c.laddr.port for c in proc.net_connections(kind="tcp") if c.status == "LISTEN"
                }
                assert not ports & {4222, 5432, 6379}, (proc.name(), ports)

        signup = httpx.post(
            stack.base_url + "/api/v1/auth/signup",
            json={
                "username": "owner",
                "email": "owner@example.com",
                "password": "a long passphrase",
            },
            timeout=20,
        )
        assert signup.status_code == 201, signup.text
        second = httpx.post(
            stack.base_url + "/api/v1/auth/signup",
            json={
                "username": "guest",
                "email": "guest@example.com",
                "password": "a long passphrase",
            },
            timeout=20,
        )
        assert second.status_code == 403  # first-user mode: the rest come by invitation
    finally:
        code = stack.stop()
    assert code == 0, stack.log()
    assert stack.survivors() == [], "processes left behind after Ctrl-C"
    assert (tmp_path / ".phoenix").is_dir()
    print(f"phoenix dev ready in {stack.started_in:.1f} s (cold, embedded servers)")


def test_phoenix_dev_keeps_its_data_across_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("PHOENIX_NATS_URL", "PHOENIX_DATABASE_URL", "PHOENIX_REDIS_URL"):
        monkeypatch.delenv(variable, raising=False)
    credentials = {"username": "keeper", "password": "a long passphrase"}
    first = start_stack({}, tmp_path / "first.log", cwd=tmp_path)
    try:
        response = httpx.post(
            first.base_url + "/api/v1/auth/signup",
            json={**credentials, "email": "keeper@example.com"},
            timeout=20,
        )
        assert response.status_code == 201, response.text
    finally:
        assert first.stop() == 0
    second = start_stack({}, tmp_path / "second.log", cwd=tmp_path)
    try:
        login = httpx.post(second.base_url + "/api/v1/auth/login", json=credentials, timeout=20)
        assert login.status_code == 200, login.text
    finally:
        assert second.stop() == 0
    assert second.survivors() == []
    print(f"phoenix dev ready in {second.started_in:.1f} s (warm restart)")


def test_the_phoenix_command_explains_itself() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "phoenix_cli", "--help"],
        capture_output=True,
        text=True,
        env=without_server_urls(),
        check=False,
    )
    assert result.returncode == 0
    assert "dev" in result.stdout
    assert "run" in result.stdout
