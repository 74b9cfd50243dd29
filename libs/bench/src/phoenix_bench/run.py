"""``phoenix bench`` / ``just bench``: one whole-stack run, or a ramp, with its report.

``phoenix bench --monitors 10000 --interval 30 --warmup 60 --duration 300``
writes ``bench/results/stack-<time>/`` (``summary.md``, ``figures.json``,
``recording.json``, PNG plots). ``--ramp`` adds monitors step by step and
reports the highest rate whose lateness p99 stays under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from phoenix_contracts.subjects import Subjects

from phoenix_bench.record import MonitorPlan, RampStep, Recording
from phoenix_bench.stack import (
    DevStack,
    Options,
    Sampler,
    create_monitors,
    forget,
    job_backlog,
    machine,
    read_back,
    server_pids,
    start_dev,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Options()
    parser.add_argument("--monitors", type=int, default=defaults.monitors)
    parser.add_argument("--interval", type=float, default=defaults.interval, help="seconds")
    parser.add_argument("--warmup", type=float, default=defaults.warmup, help="seconds")
    parser.add_argument("--duration", type=float, default=defaults.duration, help="seconds")
    parser.add_argument("--timeout", type=float, default=defaults.timeout, help="check timeout")
    parser.add_argument("--fault-period", type=float, default=defaults.fault_period)
    parser.add_argument("--error-share", type=float, default=defaults.error_share)
    parser.add_argument("--hang-share", type=float, default=defaults.hang_share)
    parser.add_argument(
        "--compare-seconds",
        type=float,
        default=defaults.compare_seconds,
        help="executor vs. ceiling and naive baseline per scheme after the run (0: skip)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=defaults.settle,
        help="after the warm-up, wait up to this many seconds for the job backlog to drain"
        " (0: don't wait)",
    )
    parser.add_argument("--ramp", action="store_true", help="find the highest sustainable rate")
    parser.add_argument("--ramp-step", type=int, default=2000, help="monitors added per step")
    parser.add_argument("--out", type=Path, default=defaults.out)


def options_from(args: argparse.Namespace) -> Options:
    return Options(
        monitors=args.monitors,
        interval=args.interval,
        warmup=args.warmup,
        duration=args.duration,
        timeout=args.timeout,
        fault_period=args.fault_period,
        error_share=args.error_share,
        hang_share=args.hang_share,
        compare_seconds=args.compare_seconds,
        settle=args.settle,
        out=args.out,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phoenix bench", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    if (problem := invalid(args)) is not None:
        parser.error(problem)
    return run_from(args)


def invalid(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, before anything starts; None if nothing."""
    if args.monitors < 1 or args.ramp_step < 1:
        return "--monitors and --ramp-step must be at least 1"
    if args.interval < 1 or args.duration <= 0 or args.timeout <= 0 or args.fault_period <= 0:
        return "--interval must be at least 1 s; --duration, --timeout, --fault-period above 0"
    if args.warmup < 0 or args.settle < 0 or args.compare_seconds < 0:
        return "--warmup, --settle and --compare-seconds cannot be negative"
    if not (0 <= args.error_share <= 1 and 0 <= args.hang_share <= 1):
        return "--error-share and --hang-share are shares between 0 and 1"
    return None


def run_from(args: argparse.Namespace) -> int:
    options = options_from(args)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = options.out / f"stack-{stamp}"
    directory.mkdir(parents=True, exist_ok=True)
    from phoenix_bench.analysis import analyse
    from phoenix_bench.summary import write_report

    try:
        if args.ramp:
            recording = asyncio.run(ramp(options, directory, args.ramp_step))
        else:
            recording = asyncio.run(run(options, directory))
        if options.compare_seconds > 0:
            _say("comparing the executor with its ceiling and a naive baseline")
            recording.comparison = compare(options.compare_seconds)
    except KeyboardInterrupt:
        return 130
    figures = analyse(recording)
    paths = write_report(
        directory,
        recording,
        figures,
        title=title_of(options, args.ramp_step if args.ramp else None),
    )
    print(paths["summary"].read_text(), file=sys.stdout)
    print(f"phoenix bench: report in {directory}", file=sys.stderr)
    return 0


@dataclass
class Bench:
    """The farm, the sink and the stack of one run, with what has been created."""

    options: Options
    farm: Any
    sink: Any
    stack: DevStack
    sampler: Sampler
    machine: dict[str, str]
    monitors: list[MonitorPlan] = field(default_factory=list)
    auth: dict[str, str] = field(default_factory=dict)

    async def add_monitors(self, count: int) -> None:
        first = len(self.monitors)
        plans = [(n, self.farm.info.url(n)) for n in range(first, first + count)]
        self.auth, created = await create_monitors(
            self.stack.api, plans, self.options, self.sink.url + "hook", self.auth
        )
        self.monitors += created

    async def settle(self) -> float | None:
        """Warm-up over: wait for the backlog of creating the monitors to drain."""
        rate = len(self.monitors) / self.options.interval
        waited = await settle(self.stack, rate, self.options.settle)
        if waited is None:
            _say(f"the job backlog did not drain within {self.options.settle:.0f} s; measuring")
        elif waited > 0:
            _say(f"the job backlog drained after {waited:.0f} s")
        return waited

    async def record(self, started: float, window_start: float, window_end: float) -> Recording:
        hits, faults = self.farm.stats()
        results, changes, storage = await read_back(self.stack)
        return Recording(
            started=started,
            window_start=window_start,
            window_end=window_end,
            monitors=list(self.monitors),
            failure_threshold=self.options.failure_threshold,
            results=results,
            status_changes=changes,
            notifications=self.sink.notifications(),
            samples=list(self.sampler.samples),
            target_hits=hits,
            target_hit_times=self.farm.hit_times(),
            timeout=self.options.check_timeout,
            faults=faults,
            storage=storage,
            machine=self.machine,
            namespace=self.stack.namespace,
        )


@contextlib.asynccontextmanager
async def bench(options: Options, directory: Path) -> AsyncIterator[Bench]:
    """Farm, sink and stack up; on the way out everything stopped and the run's
    data removed (embedded servers' files, or its streams on the named NATS)."""
    from phoenix_bench.farm import start_farm
    from phoenix_bench.sink import start_sink

    (directory / "farm").mkdir(parents=True, exist_ok=True)
    farm = start_farm(
        directory / "farm",
        period=options.fault_period,
        error_share=options.error_share,
        hang_share=options.hang_share,
        hang_seconds=options.hang_seconds,
        seed=options.seed,
    )
    sink = start_sink()
    ran = machine()
    stack: DevStack | None = None
    sampling: asyncio.Task[None] | None = None
    try:
        stack = start_dev(directory, farm.info.ca, "bench" + uuid.uuid4().hex[:6], options.interval)
        sampler = Sampler(
            stack.services, {**server_pids(stack.process.pid), "farm": farm.process.pid}
        )
        sampling = asyncio.create_task(sampler.run())
        yield Bench(options, farm, sink, stack, sampler, ran)
    finally:
        if sampling is not None:
            sampling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampling
        if stack is not None:
            _say("stopping the stack")
            stack.stop()
            if stack.embedded:
                shutil.rmtree(directory / "data", ignore_errors=True)
            else:
                await forget(stack)
        sink.stop()
        farm.stop()


async def run(options: Options, directory: Path) -> Recording:
    async with bench(options, directory) as b:
        _say(f"stack ready; creating {options.monitors} monitors")
        await b.add_monitors(options.monitors)
        started = time.time()
        _say(f"{len(b.monitors)} monitors created; warming up for {options.warmup:.0f} s")
        await asyncio.sleep(options.warmup)
        settled = await b.settle()
        window_start = time.time()
        _say(f"measuring for {options.duration:.0f} s")
        await asyncio.sleep(options.duration)
        window_end = time.time()
        # Let what started before the window ended finish (a check on a hanging target
        # takes its whole timeout), be stored, judged and delivered; read back sooner,
        # such a slot would count as missed.
        await asyncio.sleep(options.check_timeout + 5.0)
        recording = await b.record(started, window_start, window_end)
        recording.settle_seconds = settled
        return recording


async def ramp(options: Options, directory: Path, step: int) -> Recording:
    """Monitors added ``step`` at a time, each step warmed up and measured, until the
    lateness p99 of a step passes 1 s (or 50 steps). The recording is the whole run,
    its window the last sustainable step's, its ``ramp`` every step."""
    steps: list[RampStep] = []
    async with bench(options, directory) as b:
        started = time.time()
        for _ in range(50):
            await b.add_monitors(step)
            _say(f"ramp: {len(b.monitors)} monitors; warming up for {options.warmup:.0f} s")
            await asyncio.sleep(options.warmup)
            settled = await b.settle()
            window_start = time.time()
            await asyncio.sleep(options.duration)
            window_end = time.time()
            results, _, _ = await read_back(b.stack, results_since=window_start)
            lateness = sorted(
                r.started - r.due for r in results if window_start <= r.started < window_end
            )
            done = len(lateness)
            steps.append(
                RampStep(
                    monitors=len(b.monitors),
                    offered=len(b.monitors) / options.interval,
                    achieved=done / (window_end - window_start),
                    lateness_p50=_nearest_rank(lateness, 0.50),
                    lateness_p99=_nearest_rank(lateness, 0.99),
                    window_start=window_start,
                    window_end=window_end,
                    settle_seconds=settled,
                )
            )
            last = steps[-1]
            _say(
                f"ramp: offered {last.offered:.0f}/s, achieved {last.achieved:.0f}/s,"
                f" lateness p99 {last.lateness_p99 * 1000:.0f} ms"
            )
            if last.lateness_p99 > 1.0:
                break
        chosen = sustained_step(steps)
        recording = await b.record(started, chosen.window_start, chosen.window_end)
    recording.ramp = steps
    recording.settle_seconds = chosen.settle_seconds
    # The figures are the chosen window's: only the monitors that existed then
    # (steps add them in order), or the later steps' would count as missed slots.
    recording.monitors = recording.monitors[: chosen.monitors]
    return recording


@dataclass
class Settling:
    """Whether the job backlog has stayed at most ``allowed`` for ``hold`` seconds running."""

    allowed: int
    hold: float = 10.0
    since: float | None = None

    def observe(self, at: float, backlog: int) -> bool:
        if backlog > self.allowed:
            self.since = None
            return False
        if self.since is None:
            self.since = at
        return at - self.since >= self.hold


async def settle(stack: DevStack, rate: float, limit: float) -> float | None:
    """Wait until the checks keep up: the jobs due and not yet done stay within one
    second's worth (``rate``, at least 50) for 10 s running. Returns the seconds
    waited, or None after ``limit`` seconds (0: no wait).

    Creating thousands of monitors leaves a backlog that takes minutes to drain on
    a small machine, and the window is to measure the steady state, not that. A
    stack that cannot keep up never settles: its window is measured all the same
    and shows it.
    """
    if limit <= 0:
        return 0.0
    settling = Settling(allowed=max(50, math.ceil(rate)))
    subjects = Subjects(stack.namespace)
    client = await nats.connect(stack.nats_url)
    try:
        js = client.jetstream()
        began = time.monotonic()
        while (now := time.monotonic()) - began < limit:
            if settling.observe(now, await job_backlog(js, subjects)):
                return now - began
            await asyncio.sleep(1.0)
        return None
    finally:
        await client.close()


def sustained_step(steps: list[RampStep]) -> RampStep:
    """The last step whose lateness p99 stayed within 1 s (the first, if none did)."""
    good = [s for s in steps if s.lateness_p99 <= 1.0] or steps[:1]
    return good[-1]


def _nearest_rank(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def compare(seconds: float) -> dict[str, dict[str, float]]:
    """The executor's engine against the ceiling and the naive baseline, per scheme:
    the same measurement as ``just bench-executor``, on the machine the stack has left."""
    from phoenix_bench.executor import compare as measure
    from phoenix_bench.report import rows_of

    found = measure(max(1, round(seconds)), 2.0, 100, builtin=False)
    return {
        row["scheme"]: {
            "engine": row["engine_per_s"],
            "ceiling": row["ceiling_per_s"],
            "baseline": row["baseline_per_s"],
        }
        for row in rows_of(found.rates, found.s_time, found.wrk)
    }


def title_of(options: Options, ramp_step: int | None = None) -> str:
    if ramp_step is not None:  # --monitors does not apply: steps add monitors
        return (
            f"Ramp: {ramp_step:,} more monitors a step, each checked every {options.interval:g} s"
        )
    rate = options.monitors / options.interval
    return f"{options.monitors:,} monitors every {options.interval:g} s ({rate:.0f} checks/s)"


def _say(text: str) -> None:
    print(f"phoenix bench: {text}", file=sys.stderr, flush=True)
