"""The report of one whole-stack run: its recording, its figures, a Markdown summary, plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from phoenix_bench.analysis import (
    LATENESS_MAX_MS,
    LATENESS_P99_MS,
    STACK_CORES,
    Bucket,
    Figures,
    Verdict,
    verdicts,
)
from phoenix_bench.record import Recording

_DECIMALS = {"ms": 1, "s": 3, "%": 3, "cores": 2, "MB": 0, "checks/s": 1}


def _number(value: float | None, unit: str = "", *, show_unit: bool = True) -> str:
    """``value`` with the decimals its unit deserves (0 without a unit), "-" when None."""
    if value is None:
        return "-"
    text = f"{value:,.{_DECIMALS.get(unit, 0)}f}"
    return f"{text} {unit}".rstrip() if show_unit else text


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def miss_text(v: Verdict) -> str:
    """How far a failed target was missed, e.g. ``+12.5 ms (1.05x the limit)``."""
    if v.passed is not False or v.miss is None:
        return ""
    sign = "-" if v.comparison == ">=" else "+"
    return f"{sign}{_number(v.miss, v.unit)} ({_ratio(v.miss_ratio)} the limit)"


def _result(v: Verdict) -> str:
    return {True: "pass", False: "**FAIL**", None: "not measured"}[v.passed]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _when(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def markdown(recording: Recording, figures: Figures, title: str) -> str:
    rows = verdicts(figures)
    failed = sum(v.passed is False for v in rows)
    unmeasured = sum(v.passed is None for v in rows)
    t, s, n, p = figures.throughput, figures.slots, figures.notifications, figures.projection
    lines = [f"# {title}", ""]
    if recording.machine:
        lines += _table(["machine", ""], [[k, v] for k, v in sorted(recording.machine.items())])
        lines.append("")
    lines += [
        f"Window {_when(figures.window_start)} to {_when(figures.window_end)} "
        f"({t.window_seconds:.0f} s after a {figures.window_start - recording.started:.0f} s "
        f"warm-up), {t.monitors:,} monitors planned at {t.planned_per_second:,.1f} checks/s, "
        f"failure threshold {figures.failure_threshold}. {settled_text(recording.settle_seconds)}",
        "",
        f"**{len(rows) - failed - unmeasured} of {len(rows)} targets met, {failed} missed, "
        f"{unmeasured} not measured.**",
        "",
        "## Targets",
        "",
    ]
    lines += _table(
        ["target", "measured", "limit", "result", "miss"],
        [
            [
                v.name,
                _number(v.measured, v.unit),
                f"{v.comparison} {_number(v.limit, v.unit)}",
                _result(v),
                miss_text(v),
            ]
            for v in rows
        ],
    )
    lines += [
        "",
        "## Checks",
        "",
        f"- Sustained: {t.checks_per_second:,.1f} checks/s ({t.checks:,} checks started in the "
        f"window), skipped or dropped as stale {t.skipped:,} ({t.skipped_per_second:,.2f}/s).",
        f"- Expected {s.expected:,.1f} checks, {s.observed:,} slots seen; missed {s.missed:,} "
        f"({_number(_percent(s.missed_share), '%')}), duplicates {s.duplicates:,} "
        f"({_number(_percent(s.duplicate_share), '%')}: {s.duplicate_jobs:,} job ids stored "
        f"twice, {s.extra_hits:,} target requests beyond the jobs); "
        f"{s.monitors_without_due:,} monitors without a due in the window.",
        f"- Scheduler lateness (started - due): p50 {_number(figures.lateness_ms.p50, 'ms')}, "
        f"p99 {_number(figures.lateness_ms.p99, 'ms')}, "
        f"max {_number(figures.lateness_ms.max, 'ms')} over {figures.lateness_ms.count:,} checks.",
        f"- Result to status change (stored - checked): "
        f"p50 {_number(figures.status_change_ms.p50, 'ms')}, "
        f"p99 {_number(figures.status_change_ms.p99, 'ms')}, "
        f"max {_number(figures.status_change_ms.max, 'ms')} "
        f"over {figures.status_change_ms.count:,} changes.",
        f"- Failing check to notification (received - checked of the down change): "
        f"p50 {_number(n.down_ms.p50, 'ms')}, p99 {_number(n.down_ms.p99, 'ms')}, "
        f"max {_number(n.down_ms.max, 'ms')} over {n.down_ms.count:,}; "
        f"{n.received:,} notifications received, {n.matched:,} matched, "
        f"{n.without_change:,} without a change, {n.repeated:,} repeated, "
        f"{n.changes_without_notification:,} alertable changes never announced, "
        f"{n.suppressed_flapping:,} not alerted because the monitor was flapping "
        "(one flapping notice stands for them; the bench's rules do not ask for it).",
        f"- Percentiles: {figures.percentile_method}.",
        "",
        "## Projection lag",
        "",
        f"Resolution: one sample period, {_number(p.resolution_seconds, 's')}; each figure is "
        "the time since the oldest unapplied event was first seen, a lower bound within one "
        f"period. Overall p99 {_number(p.p99_seconds, 's')}, max {_number(p.max_seconds, 's')}.",
        "",
    ]
    lines += _table(
        ["service", "follower", "samples", "behind", "p99", "max"],
        [
            [
                f.service,
                f.follower,
                str(f.samples),
                str(f.behind),
                _number(f.p99_seconds, "s"),
                _number(f.max_seconds, "s"),
            ]
            for f in p.followers
        ],
    )
    r = figures.resources
    lines += [
        "",
        "## Resources",
        "",
        f"Over the {r.span_seconds:.0f} s between the samples that bound the window; RSS is "
        "a service's total over its processes at one sample (MB = 10^6 bytes).",
        "",
    ]
    lines += _table(
        ["service", "CPU (cores)", "RSS max (MB)", "largest process (MB)", "pids"],
        [
            [
                u.service,
                _number(u.cores, "cores", show_unit=False),
                _number(u.rss_max_mb, "MB", show_unit=False),
                _number(u.rss_max_process_mb, "MB", show_unit=False),
                str(u.pids),
            ]
            for u in r.services
        ]
        + [
            [
                "whole stack",
                _number(r.stack_cores, "cores", show_unit=False),
                _number(r.stack_rss_max_mb, "MB", show_unit=False),
                "",
                "",
            ]
        ],
    )
    lines += ["", "## Storage per check result", ""]
    if figures.storage is None:
        lines.append("Not recorded.")
    else:
        st = figures.storage
        lines += [
            f"- PostgreSQL: {_number(st.postgres_bytes_per_row)} bytes per row "
            f"({st.results_rows:,} rows, indexes included).",
            f"- JetStream: {_number(st.jetstream_bytes_per_message)} bytes per message "
            f"({st.stream_messages:,} messages).",
        ]
    lines += ["", "## Executor against its ceiling and a naive baseline", ""]
    if not figures.comparison:
        lines.append("Not measured.")
    else:
        lines += _table(
            [
                "scheme",
                "engine (checks/s, 1 core)",
                "ceiling",
                "engine/ceiling",
                "naive",
                "engine/naive",
                "per core needed",
            ],
            [
                [
                    c.scheme,
                    _number(c.engine),
                    _number(c.ceiling),
                    _ratio(c.engine_over_ceiling),
                    _number(c.baseline),
                    _ratio(c.engine_over_baseline),
                    _number(c.required_per_core),
                ]
                for c in figures.comparison
            ],
        )
    if recording.ramp:
        lines += ["", "## Ramp", ""]
        lines += _table(
            [
                "monitors",
                "backlog drained after",
                "offered checks/s",
                "achieved checks/s",
                "lateness p50",
                "p99",
            ],
            [
                [
                    str(step.monitors),
                    "not drained"
                    if step.settle_seconds is None
                    else _number(step.settle_seconds, "s"),
                    _number(step.offered, "checks/s", show_unit=False),
                    _number(step.achieved, "checks/s", show_unit=False),
                    _number(step.lateness_p50 * 1000, "ms"),
                    _number(step.lateness_p99 * 1000, "ms"),
                ]
                for step in recording.ramp
            ],
        )
        lines += [
            "",
            f"Highest sustainable rate (lateness p99 ≤ 1 s): "
            f"{_number(ramp_sustainable(recording), 'checks/s')}.",
        ]
    if recording.faults:
        kinds = sorted({f.kind for f in recording.faults})
        counts = ", ".join(
            f"{sum(f.kind == kind for f in recording.faults)} {kind}" for kind in kinds
        )
        lines += ["", "## Faults injected", "", f"Targets faulted while requested: {counts}.", ""]
        lines += _table(
            ["target", "kind", "from", "to"],
            [
                [
                    str(f.target),
                    f.kind,
                    f"{f.start - figures.window_start:+.1f} s",
                    f"{f.end - figures.window_start:+.1f} s",
                ]
                for f in recording.faults[:FAULT_ROWS]
            ],
        )
        if len(recording.faults) > FAULT_ROWS:
            lines += ["", f"(first {FAULT_ROWS} of {len(recording.faults)}; all in recording.json)"]
    return "\n".join(lines) + "\n"


FAULT_ROWS = 20


def settled_text(seconds: float | None) -> str:
    """What the wait after the warm-up found (the warm-up above includes it)."""
    if seconds is None:
        return (
            "The job backlog left by creating the monitors did not drain within the"
            " settle limit: the window measures a stack that did not keep up."
        )
    if seconds == 0:
        return "No wait for the job backlog to drain."
    return f"Of that warm-up, {seconds:.0f} s went on waiting for the job backlog to drain."


def ramp_sustainable(recording: Recording) -> float:
    """Checks/s achieved by the last ramp step before the first whose lateness p99
    passed 1 s (the same rule as :func:`phoenix_bench.analysis.sustainable`)."""
    best = 0.0
    for step in sorted(recording.ramp, key=lambda s: s.offered):
        if step.lateness_p99 > 1.0:
            break
        best = step.achieved
    return best


def _percent(share: float | None) -> float | None:
    return None if share is None else share * 100


def _figure(title: str) -> Figure:
    """A figure drawn by the Agg canvas (matplotlib's default for a bare Figure), no pyplot."""
    figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    figure.suptitle(title)
    figure.supxlabel("seconds into the window")
    return figure


def _from_zero(ax: Axes, values: Sequence[float | None], *lines: float) -> None:
    """Start the y axis at 0 and leave room above the highest value or line."""
    top = max([v for v in values if v is not None] + list(lines), default=0.0)
    ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)


def _values(values: Sequence[float | None]) -> list[float]:
    """None as NaN, a gap in the line."""
    return [math.nan if v is None else v for v in values]


def _centres(series: Sequence[Bucket]) -> list[float]:
    return [b.offset + b.seconds / 2 for b in series]


def plot_throughput(path: Path, series: Sequence[Bucket], planned: float) -> Path:
    figure = _figure("Checks per second (5 s buckets)")
    ax = figure.subplots()
    ax.set_ylabel("checks/s")
    rates = [b.checks_per_second for b in series]
    ax.plot(_centres(series), rates, label="checks/s")
    ax.axhline(planned, color="grey", linestyle="--", label=f"planned {planned:,.1f}/s")
    _from_zero(ax, rates, planned)
    ax.legend(loc="lower right")
    figure.savefig(path, format="png")
    return path


def plot_lateness(path: Path, series: Sequence[Bucket]) -> Path:
    figure = _figure("Scheduler lateness, started - due (5 s buckets)")
    ax = figure.subplots()
    ax.set_ylabel("ms")
    x = _centres(series)
    p99 = [b.lateness_p99_ms for b in series]
    ax.plot(x, _values([b.lateness_p50_ms for b in series]), label="p50")
    ax.plot(x, _values(p99), label="p99")
    ax.axhline(LATENESS_P99_MS, color="orange", linestyle="--", label="250 ms (p99 target)")
    ax.axhline(LATENESS_MAX_MS, color="red", linestyle="--", label="1 s (max target)")
    _from_zero(ax, p99, LATENESS_MAX_MS)
    ax.legend(loc="upper right")
    figure.savefig(path, format="png")
    return path


def plot_resources(path: Path, series: Sequence[Bucket]) -> Path:
    figure = _figure("Whole stack: CPU and RSS (5 s buckets)")
    cpu, rss = figure.subplots(2, 1, sharex=True)
    x = _centres(series)
    cores = [b.cpu_cores for b in series]
    cpu.plot(x, _values(cores))
    cpu.axhline(STACK_CORES, color="red", linestyle="--", label="1 core (target)")
    cpu.set_ylabel("cores")
    _from_zero(cpu, cores, STACK_CORES)
    cpu.legend(loc="upper right")
    mb = [b.rss_mb for b in series]
    rss.plot(x, _values(mb))
    rss.set_ylabel("RSS, MB")
    _from_zero(rss, mb)
    figure.savefig(path, format="png")
    return path


def write_report(
    directory: Path, recording: Recording, figures: Figures, *, title: str
) -> dict[str, Path]:
    """Write the recording, the figures, the verdicts, ``summary.md`` and the plots."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {
        "recording": directory / "recording.json",
        "figures": directory / "figures.json",
        "verdicts": directory / "verdicts.json",
        "summary": directory / "summary.md",
    }
    written["recording"].write_bytes(msgspec.json.encode(recording))  # large: kept compact
    written["figures"].write_bytes(msgspec.json.format(msgspec.json.encode(figures)))
    written["verdicts"].write_bytes(msgspec.json.format(msgspec.json.encode(verdicts(figures))))
    written["summary"].write_text(markdown(recording, figures, title), encoding="utf-8")
    written["throughput"] = plot_throughput(
        directory / "throughput.png", figures.series, figures.throughput.planned_per_second
    )
    written["lateness"] = plot_lateness(directory / "lateness.png", figures.series)
    written["resources"] = plot_resources(directory / "resources.png", figures.series)
    return written
