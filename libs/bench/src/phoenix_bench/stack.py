"""``phoenix bench``: the whole stack under N monitors, measured end to end.

One run: a target farm on loopback (``phoenix_bench.farm``), a webhook sink,
the real stack (``phoenix dev``: embedded servers, or the servers named by
``PHOENIX_NATS_URL`` / ``PHOENIX_DATABASE_URL`` / ``PHOENIX_REDIS_URL``), N
monitors created through the API, a warm-up, a measured window, then what the
stack stored is read back (results and status changes from JetStream, storage
sizes from PostgreSQL) into a :class:`~phoenix_bench.record.Recording`. The
stack is stopped before the executor is compared with its ceiling and a naive
baseline, so that comparison has the machine to itself. Figures and report:
``phoenix_bench.analysis`` and ``phoenix_bench.summary``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec
import nats
import psutil
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.streams import stream_names

from phoenix_bench.record import (
    FollowerSample,
    MonitorPlan,
    ProcessSample,
    Result,
    Sample,
    StatusChange,
    Storage,
)

SERVICES = ("gateway", "auth", "scheduler", "executor", "evaluator", "notifier")
_STATUS_LINE = re.compile(r"^\s+(\w+)\s+ready\s+pid (\d+)\s+metrics (\S+)/metrics")


@dataclass
class Options:
    monitors: int = 10_000
    interval: float = 30.0
    warmup: float = 60.0
    duration: float = 300.0
    timeout: float = 10.0
    failure_threshold: int = 2  # two checks a fault period at 30 s: a 500 period goes down
    recovery_threshold: int = 1
    fault_period: float = 60.0
    error_share: float = 0.01
    hang_share: float = 0.005
    hang_seconds: float = 15.0
    compare_seconds: float = 5.0  # 0: no executor comparison
    # After the warm-up, wait up to this long for the job backlog to drain (0: don't).
    settle: float = 600.0
    out: Path = field(default_factory=lambda: Path("bench") / "results")
    seed: int = 0

    @property
    def check_timeout(self) -> float:
        """The monitors' timeout: ``timeout``, within 80 % of the interval."""
        return min(self.timeout, self.interval * 0.8)


@dataclass
class ServiceInfo:
    name: str
    pid: int
    base_url: str  # where /metrics and /readyz answer


@dataclass
class DevStack:
    process: subprocess.Popen[bytes]
    api: str
    services: list[ServiceInfo]
    nats_url: str
    database_url: str
    namespace: str
    log: Path
    embedded: bool  # servers started by phoenix dev (deleted with the run's data)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_dev(directory: Path, ca: Path, namespace: str, min_interval: float) -> DevStack:
    """``phoenix dev`` as a user runs it, trusting the farm's CA, on free ports."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PHOENIX_GATEWAY_PORT": str(port),
        "PHOENIX_NAMESPACE": namespace,
        "PHOENIX_ALLOW_PRIVATE_TARGETS": "127.0.0.0/8",
        "PHOENIX_SIGNUP_MODE": "open",
        "PHOENIX_MAX_MONITORS": "0",
        "PHOENIX_MIN_INTERVAL": str(max(1, int(min_interval))),
        "PHOENIX_LOG_LEVEL": os.environ.get("PHOENIX_LOG_LEVEL", "warning"),
        # The farm's certificate is signed by its own CA: the executor trusts it
        # through OpenSSL's default verify paths, as it would a public CA.
        "SSL_CERT_FILE": str(ca),
    }
    log = directory / "stack.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "phoenix_cli", "dev", "--data-dir", str(directory / "data")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if process.poll() is not None:
            raise RuntimeError(f"phoenix dev exited with {process.returncode}:\n{text[-3000:]}")
        if "Phoenix is running" in text:
            services = [
                ServiceInfo(m[1], int(m[2]), m[3])
                for line in text.splitlines()
                if (m := _STATUS_LINE.match(line))
            ]
            embedded = dict(re.findall(r"^\s+(NATS|PostgreSQL)\s+(\S+)\s+\(embedded\)", text, re.M))
            return DevStack(
                process,
                f"http://127.0.0.1:{port}",
                services,
                embedded.get("NATS") or os.environ["PHOENIX_NATS_URL"],
                embedded.get("PostgreSQL") or os.environ["PHOENIX_DATABASE_URL"],
                namespace,
                log,
                embedded="NATS" in embedded,
            )
        if "Phoenix started with problems" in text:
            process.send_signal(signal.SIGINT)
            raise RuntimeError(f"phoenix dev did not get ready:\n{text[-3000:]}")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("phoenix dev did not start in 180 s")


async def create_monitors(
    api: str,
    plans: list[tuple[int, str]],
    options: Options,
    sink_url: str,
    auth: dict[str, str] | None = None,
) -> tuple[dict[str, str], list[MonitorPlan]]:
    """One monitor per target; the first time (no ``auth`` yet) also a user and a
    webhook channel with down/recovered rules."""
    async with httpx.AsyncClient(base_url=api, timeout=60) as client:
        if not auth:
            auth = await _user_with_webhook(client, sink_url)
        created: list[MonitorPlan] = []
        gate = asyncio.Semaphore(32)

        async def create(target: int, url: str) -> None:
            async with gate:
                response = await client.post(
                    "/api/v1/monitors",
                    json={
                        "name": f"target {target}",
                        "type": "http",
                        "url": url,
                        "interval": options.interval,
                        "timeout": options.check_timeout,
                        "failure_threshold": options.failure_threshold,
                        "recovery_threshold": options.recovery_threshold,
                    },
                    headers=auth,
                )
                if response.status_code != 201:
                    raise RuntimeError(
                        f"creating a monitor: {response.status_code} {response.text}"
                    )
                created.append(MonitorPlan(response.json()["id"], target, url, options.interval))

        await asyncio.gather(*(create(target, url) for target, url in plans))
        return auth, created


async def _user_with_webhook(client: httpx.AsyncClient, sink_url: str) -> dict[str, str]:
    """A user of its own and a webhook channel to the sink for every down and recovery."""
    name = "bench" + uuid.uuid4().hex[:8]
    password = uuid.uuid4().hex
    signup = await client.post(
        "/api/v1/auth/signup",
        json={"username": name, "email": f"{name}@example.com", "password": password},
    )
    signup.raise_for_status()
    login = await client.post("/api/v1/auth/login", json={"username": name, "password": password})
    login.raise_for_status()
    auth = {"Authorization": f"Bearer {login.json()['session_token']}"}
    channel = await client.post(
        "/api/v1/notification-channels",
        json={"name": "bench sink", "type": "webhook", "config": {"url": sink_url}},
        headers=auth,
    )
    channel.raise_for_status()
    for event in ("down", "recovered"):
        rule = await client.post(
            "/api/v1/alert-rules",
            json={
                "name": event,
                "event": event,
                "scope": "all",
                "notification_channel_ids": [channel.json()["id"]],
            },
            headers=auth,
        )
        rule.raise_for_status()
    return auth


# Embedded servers of ``phoenix dev``, by process name.
SERVERS = {"nats-server": "nats", "postgres": "postgres", "valkey-server": "redis"}


def server_pids(dev_pid: int) -> dict[str, int]:
    """The embedded servers ``phoenix dev`` started, by role (none when URLs were given)."""
    found: dict[str, int] = {}
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(dev_pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                role = SERVERS.get(child.name())
                if role and role not in found:
                    found[role] = child.pid  # the first is the parent (postmaster)
    return found


class Sampler:
    """CPU and RSS of every service process, and each follower's position, once a second.

    ``trees`` are sampled with their descendants (PostgreSQL's backends come and go),
    each under its role's name: the embedded servers, and the farm as ``farm``.
    """

    def __init__(self, services: list[ServiceInfo], trees: dict[str, int]) -> None:
        self._services = services
        self._trees = trees
        self.samples: list[Sample] = []

    async def run(self, period: float = 1.0) -> None:
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                started = time.monotonic()
                self.samples.append(await self._take(client))
                await asyncio.sleep(max(0.0, period - (time.monotonic() - started)))

    def _processes(self) -> list[tuple[str, psutil.Process]]:
        found = []
        for service in self._services:
            with contextlib.suppress(psutil.Error):
                found.append((service.name, psutil.Process(service.pid)))
        for role, pid in self._trees.items():
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pid)
                found += [(role, p) for p in [root, *root.children(recursive=True)]]
        return found

    async def _take(self, client: httpx.AsyncClient) -> Sample:
        processes = []
        for name, proc in self._processes():
            with contextlib.suppress(psutil.Error):
                cpu = proc.cpu_times()
                processes.append(
                    ProcessSample(name, proc.pid, cpu.user + cpu.system, proc.memory_info().rss)
                )
        followers = []
        stale = 0
        for service in self._services:
            if service.name == "executor":
                with contextlib.suppress(httpx.HTTPError):
                    stale += stale_jobs((await client.get(service.base_url + "/metrics")).text)
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                details = (await client.get(service.base_url + "/readyz")).json()["details"]
                for follower, lag in details.items():
                    if "applied" in lag:
                        followers.append(
                            FollowerSample(service.name, follower, lag["applied"], lag["newest"])
                        )
        return Sample(time.time(), processes, followers, stale)


def stale_jobs(exposition: str) -> int:
    """Σ ``phoenix_checks_total{outcome="stale"}`` in one Prometheus text exposition."""
    return sum(
        int(float(line.rpartition(" ")[2]))
        for line in exposition.splitlines()
        if line.startswith("phoenix_checks_total{") and 'outcome="stale"' in line
    )


async def job_backlog(js: JetStreamContext, subjects: Subjects) -> int:
    """Check jobs due and not yet done: the CHECKS stream is a work queue, a job
    leaves it when an executor acks it (after its result is stored)."""
    info = await js.stream_info(subjects.stream("CHECKS"))
    return int(info.state.messages)


async def read_back(
    stack: DevStack, results_since: float | None = None
) -> tuple[list[Result], list[StatusChange], Storage]:
    """Every result (or those stored since ``results_since``) and status change the
    stack stored, with the stream's own timestamps."""
    from phoenix_contracts.checks import CheckCompleted
    from phoenix_contracts.health import MonitorStatusChanged
    from phoenix_platform.messaging.codec import decode_event

    subjects = Subjects(stack.namespace)
    client = await nats.connect(stack.nats_url)
    try:
        js = client.jetstream()
        results_decoder = msgspec.json.Decoder(CheckCompleted)
        results: list[Result] = []
        results_stream = subjects.stream("RESULTS")
        async for msg in _everything(js, subjects.all_results, results_stream, results_since):
            r = results_decoder.decode(msg.data)
            results.append(
                Result(
                    r.monitor_id,
                    r.job_id,
                    r.due_at.timestamp(),
                    r.started_at.timestamp(),
                    r.finished_at.timestamp(),
                    r.outcome,
                    msg.metadata.timestamp.timestamp(),
                )
            )
        changes: list[StatusChange] = []
        health = subjects.events_of("health")
        async for msg in _everything(js, health, subjects.stream("EVENTS")):
            event = decode_event(msg.data)
            if isinstance(event, MonitorStatusChanged):
                changes.append(
                    StatusChange(
                        event.monitor_id,
                        event.status,
                        event.previous,
                        event.checked_at.timestamp(),
                        msg.metadata.timestamp.timestamp(),
                        event.flapping,
                    )
                )
        info = await js.stream_info(subjects.stream("RESULTS"))
        rows, size = await _table_size(stack.database_url)
        storage = Storage(rows, size, info.state.messages, info.state.bytes)
        return results, changes, storage
    finally:
        await client.close()


async def forget(stack: DevStack) -> None:
    """On servers the user named, a run leaves nothing behind on NATS: its streams
    and key-value buckets (their streams are ``KV_<bucket>``) are deleted."""
    prefix = Subjects(stack.namespace).stream("")
    client = await nats.connect(stack.nats_url)
    try:
        js = client.jetstream()
        for name in await stream_names(js):
            if name.startswith((prefix, "KV_" + prefix)):
                await js.delete_stream(name)
    finally:
        await client.close()


async def _everything(  # type: ignore[no-untyped-def]
    js, subject: str, stream: str, since: float | None = None
):
    """Every message of ``stream`` on ``subject`` (stored since ``since``), oldest
    first, through an ephemeral pull."""
    # No acks: a reader's consumer, never limited by acks pending, never redelivering.
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=60.0
    )
    if since is not None:
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=datetime.fromtimestamp(since, UTC),
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60.0,
        )
    subscription = await js.pull_subscribe(subject, stream=stream, config=config)
    pending = (await subscription.consumer_info()).num_pending
    seen = 0
    try:
        while seen < pending:
            try:
                batch = await subscription.fetch(1000, timeout=5)
            except TimeoutError:
                break
            for msg in batch:
                seen += 1
                yield msg
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()


async def _table_size(database_url: str) -> tuple[int, int]:
    import asyncpg

    url = database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetchval("select count(*) from gateway.check_results")
        size = await conn.fetchval(
            "select coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)"
            " from pg_inherits i where i.inhparent = 'gateway.check_results'::regclass"
        )
        return int(rows), int(size)
    finally:
        await conn.close()


def machine() -> dict[str, str]:
    """What ran where. Taken when the stack starts: the code it runs is the checkout's
    at that moment, whatever is committed while it runs."""
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=7", "--exclude=*"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "cpus": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else ""),
        "cpu": cpu,
        "memory_gb": f"{psutil.virtual_memory().total / 2**30:.0f}",
        "python": platform.python_version(),
        "system": platform.platform(),
    }
