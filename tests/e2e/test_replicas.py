"""Two replicas of every service against one NATS, PostgreSQL and Redis.

Each service runs twice as its own process (``phoenix run <service>``, as a
container would). Monitors each check their own local target, so the
target's hit count is exactly the number of checks run for that monitor:

- no check runs twice and none goes missing while the scheduler leader and an
  evaluator are stopped in the middle of it (the survivors take over);
- both executors and both evaluators do part of the work; the schedulers hold
  one lease between them; the evaluators split the result partitions;
- a monitor that goes down and recovers is reported once each way, although
  two evaluators judge and two notifiers deliver;
- either gateway serves what the other one wrote.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import nats
import pytest
from phoenix_contracts.checks import CheckCompleted
from phoenix_contracts.subjects import RESULT_PARTITIONS, Subjects
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.peers import Target, WebhookSink
from tests.e2e.stack import free_port, stack_env
from tests.e2e.test_monitoring_flow import alert_to_webhook, sign_up_and_log_in, wait_for_status
from tests.infra import Servers

pytestmark = pytest.mark.e2e

SERVICES = ["auth", "gateway", "scheduler", "executor", "evaluator", "notifier"]
STEADY = 4  # monitors whose target never fails
FLAPPING = 2  # monitors whose target fails for a while, then recovers


@dataclass
class Replica:
    service: str
    index: int
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def metrics(self) -> dict[str, float]:
        """Every sample of this process's /metrics, keyed by name and labels."""
        text = httpx.get(self.url + "/metrics", timeout=5).text
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
        return samples

    def metric(self, name: str) -> float:
        """The sum of every sample of ``name`` (all label values)."""
        return sum(v for k, v in self.metrics().items() if k.split("{")[0] == name)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=60)


class Stack:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.replicas: dict[str, list[Replica]] = {s: [] for s in SERVICES}

    def start(self, service: str) -> Replica:
        index = len(self.replicas[service])
        port = free_port()
        log = self.logs / f"{service}-{index}.log"
        env = {
            **os.environ,
            **self.env,
            # the gateway's /metrics has a port of its own, away from its API
            "PHOENIX_HEALTH_PORT": str(free_port() if service == "gateway" else port),
            "PHOENIX_GATEWAY_PORT": str(port),
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "phoenix_cli", "run", service],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        replica = Replica(service, index, port, process, log)
        self.replicas[service].append(replica)
        return replica

    def wait_ready(self, replica: Replica, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if replica.process.poll() is not None:
                raise AssertionError(
                    f"{replica.service}-{replica.index} exited:\n{self.tail(replica)}"
                )
            try:
                if httpx.get(replica.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(
            f"{replica.service}-{replica.index} never ready:\n{self.tail(replica)}"
        )

    def tail(self, replica: Replica) -> str:
        return "\n".join(replica.log.read_text(errors="replace").splitlines()[-40:])

    def stop_all(self) -> dict[str, int]:
        codes = {}
        for service in reversed(SERVICES):
            for replica in self.replicas[service]:
                codes[f"{service}-{replica.index}"] = replica.stop()
        return codes


@pytest.fixture
def stack(servers: Servers, module_namespace: tuple[str, str], tmp_path: Path) -> Iterator[Stack]:
    namespace, database_url = module_namespace
    stack = Stack(
        {
            **stack_env(servers.nats_url, database_url, servers.redis_url, namespace),
            "PHOENIX_COOKIE_SECURE": "false",
            "PHOENIX_LEASE_TTL": "3",
            "PHOENIX_LOG_FORMAT": "console",
            "PHOENIX_SECRETS_KEY": base64.b64encode(os.urandom(32)).decode(),
        },
        tmp_path,
    )
    try:
        # The first of each starts alone, so the first scheduler is sure to lead.
        for service in SERVICES:
            stack.wait_ready(stack.start(service))
        for service in SERVICES:
            stack.start(service)
        for service in SERVICES:
            stack.wait_ready(stack.replicas[service][1])
        yield stack
    finally:
        codes = stack.stop_all()
    assert set(codes.values()) == {0}, codes


def results_in_log(nats_url: str, namespace: str) -> list[CheckCompleted]:
    """Every result stored on the RESULTS stream, read back in order."""

    async def read() -> list[CheckCompleted]:
        client = await nats.connect(nats_url)
        try:
            js = client.jetstream()
            stream = Subjects(namespace).stream("RESULTS")
            last = (await js.stream_info(stream)).state.last_seq
            decoder = msgspec.json.Decoder(CheckCompleted)
            return [
                decoder.decode((await js.get_msg(stream, seq)).data or b"")
                for seq in range(1, last + 1)
            ]
        finally:
            await client.close()

    return asyncio.run(read())


def test_two_of_every_service_share_the_work_and_nothing_happens_twice(
    stack: Stack, servers: Servers, module_namespace: tuple[str, str]
) -> None:
    namespace = module_namespace[0]
    gateway_a, gateway_b = (replica.url for replica in stack.replicas["gateway"])
    a = httpx.Client(base_url=gateway_a, timeout=20)
    b = httpx.Client(base_url=gateway_b, timeout=20)
    auth = sign_up_and_log_in(a)
    sink = WebhookSink()
    targets = [Target() for _ in range(STEADY + FLAPPING)]
    try:
        alert_to_webhook(b, auth, sink.url + "hook")  # written through the other gateway
        monitors = []
        for n, target in enumerate(targets):
            client = a if n % 2 else b
            created = client.post(
                "/api/v1/monitors",
                json={
                    "name": f"site {n}",
                    "type": "http",
                    "url": target.url,
                    "interval": 1,
                    "timeout": 0.8,
                },
                headers=auth,
            )
            assert created.status_code == 201, created.text
            monitors.append(created.json()["id"])
        # Each gateway lists what was written through either.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listed = [
                {m["id"] for m in c.get("/api/v1/monitors", headers=auth).json()["items"]}
                for c in (a, b)
            ]
            if listed == [set(monitors)] * 2:
                break
            time.sleep(0.2)
        assert listed == [set(monitors)] * 2
        for monitor in monitors:
            wait_for_status(a, auth, monitor, "up", timeout=30)

        schedulers = stack.replicas["scheduler"]
        assert [s.metric("phoenix_scheduler_leader") for s in schedulers] == [1, 0]
        evaluators = stack.replicas["evaluator"]
        owned = [e.metric("phoenix_evaluator_partitions_owned") for e in evaluators]
        assert owned == [RESULT_PARTITIONS / 2] * 2, owned

        # The failing spell: the flapping monitors go down while the leading
        # scheduler and one evaluator stop; the survivors carry on alone.
        flapping = targets[STEADY:]
        for target in flapping:
            target.status = 500
        assert schedulers[0].stop() == 0
        assert evaluators[0].stop() == 0
        for monitor in monitors[STEADY:]:
            wait_for_status(b, auth, monitor, "down", timeout=30)
        assert schedulers[1].metric("phoenix_scheduler_leader") == 1
        assert evaluators[1].metric("phoenix_evaluator_partitions_owned") == RESULT_PARTITIONS
        for target in flapping:
            target.status = 200
        for monitor in monitors[STEADY:]:
            wait_for_status(a, auth, monitor, "up", timeout=30)
        time.sleep(3)  # anything duplicated would arrive by now

        # Reported once each way, whichever evaluator judged and notifier sent.
        hooks = Counter((body["monitor"]["id"], body["event"]) for body in sink.received)
        assert hooks == {(m, e): 1 for m in monitors[STEADY:] for e in ("down", "recovered")}

        # Both executors took checks from the one work queue.
        executors = stack.replicas["executor"]
        checks = [e.metric("phoenix_checks_total") for e in executors]
        assert all(count > 0 for count in checks), checks

        # Every check ran exactly once: each distinct job reached its target once.
        stack.replicas["executor"][0].stop()
        stack.replicas["executor"][1].stop()
        results = results_in_log(servers.nats_url, namespace)
        for monitor, target in zip(monitors, targets, strict=True):
            jobs = {r.job_id for r in results if r.monitor_id == monitor}
            assert target.hits == len(jobs), f"{monitor}: {target.hits} hits, {len(jobs)} jobs"
            slots = [r.due_at for r in results if r.monitor_id == monitor]
            assert len(slots) == len(set(slots)), "a slot was checked twice"
            span = (max(slots) - min(slots)).total_seconds()
            # One check a second; the scheduler hand-over may cost a slot or two.
            assert len(set(slots)) >= span - 3, f"{monitor}: {len(set(slots))} checks in {span} s"
    finally:
        sink.close()
        for target in targets:
            target.close()
