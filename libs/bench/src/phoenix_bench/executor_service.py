"""The executor service alone: CPU per check job, from the queue to the stored result.

``python -m phoenix_bench.executor_service [--jobs 8000] [--scheme http|https]
[--concurrency 100] [--nats URL]`` starts the farm (no faults) and one executor
process (``python -m phoenix_executor``) on NATS, publishes ``--jobs`` check jobs
at once and waits for every result. It reports the executor's own CPU seconds
(from the process, user + system) per job and jobs per CPU-second, so it counts
what :mod:`phoenix_bench.executor` leaves out: pulling the job, publishing the
result and acking. Without ``--nats`` (or ``PHOENIX_NATS_URL``) it starts an
embedded NATS server in a scratch directory. The namespace is its own and its
streams are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec
import nats
import psutil
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from phoenix_contracts.checks import CheckCompleted, CheckJob
from phoenix_contracts.monitors import MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_devstack.nats import NatsServer
from phoenix_devstack.ports import free_port
from phoenix_platform.messaging.codec import encode
from phoenix_platform.messaging.streams import Streams

from phoenix_bench.farm import scheme_of, start_farm, target_url


class ServiceRun(msgspec.Struct, frozen=True):
    jobs: int
    scheme: str
    concurrency: int
    wall_seconds: float
    cpu_seconds: float
    jobs_per_cpu_second: float
    cpu_ms_per_job: float
    outcomes: dict[str, int]


def jobs_for(count: int, scheme: str, ports: list[int]) -> list[CheckJob]:
    """One job per target of ``scheme``, due now, never stale during the run."""
    indexes = [i for i in range(len(ports)) if scheme_of(i) == scheme]
    now = datetime.now(UTC)
    jobs = []
    for n in range(count):
        monitor_id = str(uuid.uuid4())
        target = indexes[n % len(indexes)] + len(ports) * n
        spec = MonitorSpec(name="bench", type="http", url=target_url(target, ports), timeout=10)
        jobs.append(
            CheckJob(
                job_id=f"{monitor_id}:default:{n}",
                monitor_id=monitor_id,
                organization_id="bench",
                region="default",
                due_at=now,
                deadline=now + timedelta(hours=1),
                spec=spec,
            )
        )
    return jobs


def measure(
    nats_url: str, directory: Path, count: int, scheme: str, concurrency: int
) -> ServiceRun:
    farm = start_farm(directory, ports=16, error_share=0.0, hang_share=0.0)
    subjects = Subjects("exsvc" + uuid.uuid4().hex[:8])
    health_port = free_port()
    env = {
        **os.environ,
        "PHOENIX_NATS_URL": nats_url,
        "PHOENIX_NAMESPACE": subjects.namespace,
        "PHOENIX_ALLOW_PRIVATE_TARGETS": "127.0.0.0/8",
        "PHOENIX_HEALTH_PORT": str(health_port),
        "PHOENIX_CONCURRENCY": str(concurrency),
        "PHOENIX_LOG_LEVEL": "warning",
        "SSL_CERT_FILE": str(farm.info.ca),
    }
    executor = subprocess.Popen([sys.executable, "-m", "phoenix_executor"], env=env)
    try:
        jobs = jobs_for(count, scheme, farm.info.ports)
        wall, cpu, outcomes = asyncio.run(
            _drive(nats_url, subjects, jobs, executor, f"http://127.0.0.1:{health_port}/readyz")
        )
    finally:
        executor.terminate()
        executor.wait(timeout=60)
        farm.stop()
    return ServiceRun(
        jobs=count,
        scheme=scheme,
        concurrency=concurrency,
        wall_seconds=round(wall, 3),
        cpu_seconds=round(cpu, 3),
        jobs_per_cpu_second=round(count / cpu, 1),
        cpu_ms_per_job=round(cpu / count * 1000, 3),
        outcomes=outcomes,
    )


async def _drive(
    nats_url: str,
    subjects: Subjects,
    jobs: list[CheckJob],
    executor: subprocess.Popen[bytes],
    readyz: str,
) -> tuple[float, float, dict[str, int]]:
    """Publish every job once the executor is ready; (wall s, executor CPU s, outcomes)
    when the last result is in."""
    nc = await nats.connect(nats_url)
    try:
        await _ready(readyz, executor)
        process = psutil.Process(executor.pid)
        outcomes: dict[str, int] = {}
        done = asyncio.Event()
        decoder = msgspec.json.Decoder(CheckCompleted)

        async def on_result(msg: Msg) -> None:
            outcome = decoder.decode(msg.data).outcome
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if sum(outcomes.values()) >= len(jobs):
                done.set()

        await nc.subscribe(subjects.all_results, cb=on_result)
        js = nc.jetstream()
        cpu_before = sum(process.cpu_times()[:2])
        started = time.perf_counter()
        for job in jobs:
            await js.publish(
                subjects.check_job(job.region), encode(job), headers={"Nats-Msg-Id": job.job_id}
            )
        await asyncio.wait_for(done.wait(), timeout=max(60.0, len(jobs) / 50))
        wall = time.perf_counter() - started
        cpu = sum(process.cpu_times()[:2]) - cpu_before
    finally:
        streams = Streams(subjects)
        for stream in (streams.checks, streams.results, streams.events, streams.notify):
            with contextlib.suppress(NotFoundError):
                await nc.jetstream().delete_stream(stream)
        await nc.close()
    return wall, cpu, outcomes


async def _ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the executor exited with {process.returncode}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the executor did not get ready in 60 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=8000)
    parser.add_argument("--scheme", choices=["http", "https"], default="http")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--nats", default=os.environ.get("PHOENIX_NATS_URL"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="phoenix-exsvc-") as scratch:
        directory = Path(scratch)
        if args.nats:
            run = measure(args.nats, directory, args.jobs, args.scheme, args.concurrency)
        else:
            server = NatsServer(directory / "data", None)
            server.start(time.monotonic() + 30)
            try:
                run = measure(server.url, directory, args.jobs, args.scheme, args.concurrency)
            finally:
                server.stop()
    print(json.dumps(msgspec.to_builtins(run)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
