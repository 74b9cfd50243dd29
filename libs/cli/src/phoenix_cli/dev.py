"""``phoenix dev``: the whole stack in one command.

Without ``PHOENIX_NATS_URL`` / ``PHOENIX_DATABASE_URL`` / ``PHOENIX_REDIS_URL``
it starts real servers from wheels (NATS, PostgreSQL, Valkey) on free loopback
ports, with data under ``.phoenix/``. Each service runs as its own process
(``phoenix run <service>``), exactly as in production. Ctrl-C or SIGTERM stops
the services first (they drain), then the servers; nothing is left behind.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from phoenix_cli.main import SERVICES
from phoenix_cli.processes import ServiceProcess

READY_TIMEOUT = 60.0


def run_dev(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_dev(Path(args.data_dir).resolve()))
    except KeyboardInterrupt:
        return 130


async def _dev(data_dir: Path) -> int:
    started = time.monotonic()
    gateway_port = int(os.environ.get("PHOENIX_GATEWAY_PORT", "8080"))
    if not _port_free(gateway_port):
        print(
            f"phoenix: port {gateway_port} is taken; set PHOENIX_GATEWAY_PORT to a free port",
            file=sys.stderr,
        )
        return 1
    stack, env = await _servers(data_dir)
    try:
        _ensure_secrets_key(data_dir, env)
        env.setdefault("PHOENIX_LOG_FORMAT", "console")
        # The dev API is plain http on loopback: a Secure cookie would never come back.
        env.setdefault("PHOENIX_COOKIE_SECURE", "false")
        processes, probes = _spawn_all(env, gateway_port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        for process in processes:
            await process.start()
        ready = await _wait_ready(processes, stop)
        embedded = _embedded_urls(stack, env)
        _print_status(processes, probes, ready, gateway_port, time.monotonic() - started, embedded)
        watchers = [asyncio.create_task(p.keep_running(stop)) for p in processes]
        await stop.wait()
        print("\nphoenix: stopping services…", file=sys.stderr)
        await asyncio.gather(*(p.stop() for p in processes))
        for watcher in watchers:
            watcher.cancel()
        return 0
    finally:
        if stack is not None:
            print("phoenix: stopping embedded servers…", file=sys.stderr)
            await asyncio.to_thread(stack.stop)


async def _servers(data_dir: Path):  # type: ignore[no-untyped-def]
    env = dict(os.environ)
    wanted = {
        "nats": "PHOENIX_NATS_URL",
        "postgres": "PHOENIX_DATABASE_URL",
        "redis": "PHOENIX_REDIS_URL",
    }
    missing = [name for name, variable in wanted.items() if not env.get(variable)]
    if not missing:
        return None, env
    try:
        from phoenix_devstack import EmbeddedStack
    except ImportError:
        raise SystemExit(
            "phoenix: embedded servers need the dev extras (uv sync from the repository root),"
            " or set " + ", ".join(wanted[m] for m in missing)
        ) from None
    print(f"phoenix: starting embedded {', '.join(missing)} in {data_dir}/ …", file=sys.stderr)
    stack = EmbeddedStack(data_dir, services=missing)
    endpoints = await asyncio.to_thread(stack.start)
    urls = {
        "nats": endpoints.nats_url,
        "postgres": endpoints.database_url,
        "redis": endpoints.redis_url,
    }
    for name in missing:
        env[wanted[name]] = urls[name]
    return stack, env


def _embedded_urls(stack: object, env: dict[str, str]) -> dict[str, str]:
    """Where the embedded servers listen, for tools (psql, nats, phoenix events).
    Only embedded ones: a URL the user gave may hold a password."""
    if stack is None:
        return {}
    names = {"NATS": "PHOENIX_NATS_URL", "PostgreSQL": "PHOENIX_DATABASE_URL"}
    names["Redis"] = "PHOENIX_REDIS_URL"
    given = {v for v in names.values() if os.environ.get(v)}
    return {name: env[var] for name, var in names.items() if var not in given}


def _ensure_secrets_key(data_dir: Path, env: dict[str, str]) -> None:
    """Two-factor seeds and channel credentials are sealed with a key: dev makes one
    once and keeps it with the data (``secrets.key``, owner-only), so what was sealed
    stays readable across restarts."""
    if env.get("PHOENIX_SECRETS_KEY") or env.get("PHOENIX_SECRETS_KEY_FILE"):
        return
    path = data_dir / "secrets.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.urlsafe_b64encode(os.urandom(32)).decode() + "\n")
    env["PHOENIX_SECRETS_KEY_FILE"] = str(path)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _spawn_all(
    env: dict[str, str], gateway_port: int
) -> tuple[list[ServiceProcess], dict[str, str]]:
    """The service processes, and where each one's health port (``/metrics``) is."""
    from phoenix_devstack import free_port

    processes = []
    probes = {}
    for name in SERVICES:
        service_env = dict(env)
        service_env["PHOENIX_GATEWAY_PORT"] = str(gateway_port)
        # Health ports listen on loopback unless the caller says otherwise:
        # /metrics and /readyz are for this machine only.
        service_env.setdefault("PHOENIX_HEALTH_HOST", "127.0.0.1")
        service_env["PHOENIX_HEALTH_PORT"] = str(free_port())
        probes[name] = f"http://127.0.0.1:{service_env['PHOENIX_HEALTH_PORT']}"
        # The gateway is ready when its API answers, not only its health port.
        ready = f"http://127.0.0.1:{gateway_port}" if name == "gateway" else probes[name]
        processes.append(ServiceProcess(name, service_env, ready + "/readyz"))
    return processes, probes


async def _wait_ready(processes: list[ServiceProcess], stop: asyncio.Event) -> dict[str, bool]:
    deadline = time.monotonic() + READY_TIMEOUT
    ready = dict.fromkeys((p.name for p in processes), False)
    async with httpx.AsyncClient(timeout=1.0, trust_env=False) as client:
        while not all(ready.values()) and time.monotonic() < deadline and not stop.is_set():
            for process in processes:
                if not ready[process.name]:
                    ready[process.name] = await process.probe(client)
            await asyncio.sleep(0.1)
    return ready


def _print_status(
    processes: list[ServiceProcess],
    probes: dict[str, str],
    ready: dict[str, bool],
    gateway_port: int,
    elapsed: float,
    embedded: dict[str, str],
) -> None:
    lines = ["", "Phoenix is running" if all(ready.values()) else "Phoenix started with problems"]
    for process in processes:
        metrics = f"metrics {probes[process.name]}/metrics"
        state = "ready" if ready[process.name] else f"NOT READY {process.last_probe}"
        lines.append(f"  {process.name:<10} {state:<10} pid {process.pid!s:<8} {metrics}")
    lines.append(f"  API        http://127.0.0.1:{gateway_port}/api/v1   (docs: /schema)")
    for name, url in embedded.items():
        lines.append(f"  {name:<10} {url}   (embedded)")
    lines.append(f"  started in {elapsed:.1f} s — Ctrl-C stops everything")
    print("\n".join(lines) + "\n", file=sys.stderr, flush=True)
