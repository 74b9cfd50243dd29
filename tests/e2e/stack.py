"""Running ``phoenix dev`` as a user would: a real process tree, driven over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil


def stack_env(nats_url: str, database_url: str, redis_url: str, namespace: str) -> dict[str, str]:
    """The settings every e2e stack shares: this session's servers and namespace,
    checks down to 1 s, loopback targets allowed, open signup."""
    return {
        "PHOENIX_NATS_URL": nats_url,
        "PHOENIX_DATABASE_URL": database_url,
        "PHOENIX_REDIS_URL": redis_url,
        "PHOENIX_NAMESPACE": namespace,
        "PHOENIX_MIN_INTERVAL": "1",
        "PHOENIX_ALLOW_PRIVATE_TARGETS": "127.0.0.0/8",
        "PHOENIX_SIGNUP_MODE": "open",
    }


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    started_in: float
    descendants: list[psutil.Process] = field(default_factory=list)
    # Credentials tests handed out (API keys, session and invitation tokens):
    # none may appear in the log, checked when the stack stops.
    secrets: list[str] = field(default_factory=list)

    def leaked_secrets(self) -> list[str]:
        text = self.log()
        return [secret[:8] + "…" for secret in self.secrets if secret in text]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> int:
        self.descendants = psutil.Process(self.process.pid).children(recursive=True)
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def survivors(self) -> list[psutil.Process]:
        alive = []
        for proc in self.descendants:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.NoSuchProcess:
                continue
        return alive


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_stack(
    env: dict[str, str], log_path: Path, cwd: Path, timeout: float = 90
) -> RunningStack:
    port = free_port()
    full_env = {**os.environ, **env, "PHOENIX_GATEWAY_PORT": str(port)}
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "phoenix_cli", "dev"],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )
    stack = RunningStack(process, f"http://127.0.0.1:{port}", log_path, 0.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"phoenix dev exited with {process.returncode}:\n{stack.log()}")
        if "Phoenix is running" in stack.log() and _ready(stack.base_url):
            stack.started_in = time.monotonic() - started
            return stack
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"phoenix dev did not become ready in {timeout} s:\n{stack.log()}")


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(base_url + "/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
