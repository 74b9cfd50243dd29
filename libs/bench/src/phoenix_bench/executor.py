"""Checks/s of the executor's engine vs. the ceiling, measured in one run.

``uv run python -m phoenix_bench.executor [--seconds N]`` (or ``uv run just bench-executor``).
The client is pinned to one core; the targets (nginx, or phoenix_bench.server without it)
run on the other cores; 100 concurrent checks, a new connection per check.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from phoenix_executor.engine import Engine
from phoenix_platform.netguard import NetGuard, parse_networks

from phoenix_bench.certs import write_certificates
from phoenix_bench.load import Rate, closed_loop, openssl_s_time, raw_check, wrk_close
from phoenix_bench.report import report
from phoenix_bench.targets import Targets, start_targets


async def measure(
    targets: Targets, ca: Path, seconds: float, baseline_seconds: float, concurrency: int
) -> dict[str, dict[str, Rate]]:
    guard = NetGuard(parse_networks("127.0.0.0/8"))  # the targets are on loopback
    engine = Engine(guard=guard, verify_context=ssl.create_default_context(cafile=ca))
    client_ctx = ssl.create_default_context(cafile=ca)
    urls = {
        "http": f"http://127.0.0.1:{targets.http_port}/",
        "https": f"https://127.0.0.1:{targets.https_port}/",
    }
    ports = {"http": targets.http_port, "https": targets.https_port}
    out: dict[str, dict[str, Rate]] = {}
    for scheme, url in urls.items():

        async def engine_check(url: str = url) -> None:
            response = await engine.request("GET", url)
            if response.status_code != 200:
                raise RuntimeError(f"status {response.status_code}")

        async def naive_check(url: str = url) -> None:
            # The naive way: a client (and so an SSLContext) per check.
            context = ssl.create_default_context()
            context.load_verify_locations(cafile=ca)
            async with httpx.AsyncClient(verify=context) as client:
                (await client.get(url)).raise_for_status()

        tls = client_ctx if scheme == "https" else None
        out[scheme] = {
            "engine": await closed_loop(engine_check, seconds, concurrency),
            "raw_protocol": await closed_loop(raw_check(ports[scheme], tls), seconds, concurrency),
            # Its first wave alone is ~100 x 28 ms of SSLContext builds: counted whole.
            "baseline": await closed_loop(
                naive_check, baseline_seconds, concurrency, warmup=0, drain=True
            ),
        }
    return out


def run_loop(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


@dataclass(frozen=True)
class Comparison:
    targets: Targets
    rates: dict[str, dict[str, Rate]]
    s_time: dict[str, float] | None
    wrk: float | None
    cpus: list[int]
    server_cpus: set[int]


def compare(seconds: int, baseline_seconds: float, concurrency: int, builtin: bool) -> Comparison:
    """The engine, the ceilings and the naive baseline, the client pinned to one core
    and the targets to the others (this process's affinity is restored after)."""
    original = os.sched_getaffinity(0)
    cpus = sorted(original)
    client_cpus = {cpus[0]}
    server_cpus = set(cpus[1:]) or client_cpus  # one CPU: everything shares it (noted)
    try:
        with tempfile.TemporaryDirectory(prefix="phoenix-bench-") as tmpdir:
            tmp = Path(tmpdir)
            ca, chain, key = write_certificates(tmp)
            with start_targets(tmp, chain, key, server_cpus, force_builtin=builtin) as targets:
                os.sched_setaffinity(0, client_cpus)
                rates = run_loop(measure(targets, ca, seconds, baseline_seconds, concurrency))
                s_time = openssl_s_time(targets.https_port, seconds, client_cpus)
                wrk = wrk_close(targets.http_port, seconds, concurrency, client_cpus)
    finally:
        os.sched_setaffinity(0, original)
    return Comparison(targets, rates, s_time, wrk, cpus, server_cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per measurement (default 10)")
    parser.add_argument("--baseline-seconds", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument(
        "--builtin", action="store_true", help="use phoenix_bench.server, not nginx"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 120 or not 1 <= args.concurrency <= 1000:
        parser.error("--seconds must be 1..120 and --concurrency 1..1000")

    found = compare(args.seconds, args.baseline_seconds, args.concurrency, args.builtin)
    print(
        f"targets: {found.targets.kind}  client CPU {found.cpus[0]}  server CPUs "
        f"{sorted(found.server_cpus)}  {args.concurrency} concurrent, {args.seconds}s each",
        flush=True,
    )
    return report(
        args, found.targets, found.rates, found.s_time, found.wrk, found.cpus, found.server_cpus
    )


if __name__ == "__main__":
    sys.exit(main())
