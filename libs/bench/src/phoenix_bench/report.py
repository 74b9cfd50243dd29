"""The benchmark's table and its JSON record in bench/results/."""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import ssl
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from phoenix_bench.load import Rate
from phoenix_bench.targets import Targets

REQUIRED = {"http": 2500.0, "https": 900.0}  # checks/s per executor core, from the issue
# Beside the checkout one runs from (git-ignored), not inside the installed package.
RESULTS = Path("bench") / "results"


def rows_of(
    rates: dict[str, dict[str, Rate]], s_time: dict[str, float] | None, wrk: float | None
) -> list[dict[str, Any]]:
    """Per scheme: the engine, its ceiling (wrk / openssl s_time when installed, else
    a raw asyncio client) and the naive baseline, with the ratios and the verdict."""
    ceilings = {
        "http": (wrk, "wrk -c100, Connection: close")
        if wrk
        else (rates["http"]["raw_protocol"].per_second, "raw asyncio Protocol"),
        "https": (s_time["per_user_cpu_second"], "openssl s_time -new, per CPU-s")
        if s_time
        else (rates["https"]["raw_protocol"].per_second, "raw asyncio Protocol"),
    }
    rows = []
    for scheme in ("http", "https"):
        engine, base = rates[scheme]["engine"], rates[scheme]["baseline"]
        ceiling, source = ceilings[scheme]
        passed = engine.per_second >= REQUIRED[scheme] and engine.errors == 0
        rows.append(
            {
                "scheme": scheme,
                "engine_per_s": engine.per_second,
                "engine_per_cpu_s": engine.per_cpu_second,
                "engine_errors": engine.errors,
                "first_error": engine.first_error,
                "ceiling_per_s": ceiling,
                "ceiling_source": source,
                "ratio_engine_ceiling": engine.per_second / ceiling if ceiling else None,
                "raw_protocol_per_s": rates[scheme]["raw_protocol"].per_second,
                "baseline_per_s": base.per_second,
                "ratio_engine_baseline": engine.per_second / base.per_second
                if base.per_second
                else None,
                "required_per_s": REQUIRED[scheme],
                "pass": passed,
            }
        )
    return rows


def report(
    args: argparse.Namespace,
    targets: Targets,
    rates: dict[str, dict[str, Rate]],
    s_time: dict[str, float] | None,
    wrk: float | None,
    cpus: list[int],
    server_cpus: set[int],
) -> int:
    rows = rows_of(rates, s_time, wrk)
    ok = all(r["pass"] for r in rows)
    header = (
        f"{'':6}{'engine/s':>10}{'ceiling/s':>11}{'eng/ceil':>9}{'raw-proto/s':>12}"
        f"{'naive/s':>9}{'eng/naive':>10}{'need':>7}  result"
    )
    print(header)
    for r in rows:
        ratio = r["ratio_engine_ceiling"]
        print(
            f"{r['scheme']:6}{r['engine_per_s']:>10.0f}{r['ceiling_per_s']:>11.0f}"
            f"{(ratio or 0):>9.2f}{r['raw_protocol_per_s']:>12.0f}{r['baseline_per_s']:>9.0f}"
            f"{(r['ratio_engine_baseline'] or 0):>9.1f}x{r['required_per_s']:>7.0f}  "
            f"{'PASS' if r['pass'] else 'FAIL'}"
        )
    for r in rows:
        print(
            f"  {r['scheme']} ceiling: {r['ceiling_source']}; engine {r['engine_per_cpu_s']:.0f}"
            f" checks per CPU-second, errors {r['engine_errors']}"
            + (f" (first: {r['first_error']})" if r["first_error"] else "")
        )
    for scheme, by_client in rates.items():
        base = by_client["baseline"]
        print(
            f"  {scheme} naive (httpx client per check): {base.completed} checks in "
            f"~{args.baseline_seconds}s (all of them, first wave included), errors {base.errors}"
            + (f" (first: {base.first_error})" if base.first_error else "")
        )
    if s_time:
        print(
            f"  openssl s_time: {s_time['per_second']:.0f} handshakes/s wall (sequential), "
            f"{s_time['per_user_cpu_second']:.0f} per user CPU-second"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"executor-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "seconds": args.seconds,
                "concurrency": args.concurrency,
                "targets": targets.kind,
                "cpus": cpus,
                "server_cpus": sorted(server_cpus),
                "python": sys.version.split()[0],
                "platform": platform.platform(),
                "openssl": ssl.OPENSSL_VERSION,
                "tools": {t: bool(shutil.which(t)) for t in ("nginx", "openssl", "wrk")},
                "s_time": s_time,
                "wrk_per_s": wrk,
                "rates": {s: {k: asdict(v) for k, v in r.items()} for s, r in rates.items()},
                "rows": rows,
                "pass": ok,
            },
            indent=2,
        )
    )
    print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0 if ok else 1
