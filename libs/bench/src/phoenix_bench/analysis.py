"""The figures of one whole-stack run, drawn from its :class:`Recording` without any I/O.

Definitions (the report states them too):

- The window is ``[window_start, window_end)``; a result belongs to it by its ``started``,
  a status change by its ``checked`` (result to change latency) or its ``stored`` (whether
  it was announced), a notification by its ``received``.
- Percentiles are exact, by the nearest-rank method: the p-th percentile of n sorted
  values is the value of rank ``ceil(p/100 · n)`` (1-based), always an observed value.
- Missed slots, per monitor, from the distinct ``due`` times inside the window: a gap of
  about k intervals between consecutive dues is k - 1 missed slots
  (``round(gap/interval) - 1``). At the edges the phase is known from the first and last
  due, so the slots the window holds before the first due are ``floor((first -
  window_start)/interval)`` and after the last ``ceil((window_end - last)/interval) - 1``
  (exact for periodic dues; ``round - 1`` would miss a slot there when the phase is under
  half an interval). A monitor with no due in the window missed ``round(window/interval)``.
- Duplicates, over the whole recording (the farm counts from the start): (a) results
  stored beyond one per job_id, and (b) per target, the farm's requests beyond the
  distinct job_ids of its monitors, positive part only. A check run twice and stored
  twice shows in both, so per target the duplicates are the larger of (a) and (b), not
  their sum. The missed share is of the expected checks in the window, ``Σ window/interval``;
  the duplicate share is of the checks of the recording (distinct job_ids); the target
  compares their sum.
- Projection lag, per (service, follower) and sample: 0 when ``applied ≥ newest``, else the
  time since the first sample whose ``newest`` was beyond ``applied`` (the oldest event
  the follower still has not applied was first seen then). The true lag lies in
  ``[lag, lag + one sample period)``: the figure is a lower bound at the sampler's
  resolution, stated as ``resolution_seconds``.
- CPU is measured over the sampled span closest to the window: from the last sample at or
  before ``window_start`` (else the first after it) to the last sample before
  ``window_end``. Per pid, it adds the increments of ``cpu_seconds`` between consecutive
  samples; a pid first seen after the span's start adds its whole ``cpu_seconds`` (it
  started in the span), and a drop in ``cpu_seconds`` (the pid was reused by a new
  process) counts the new value. The CPU of a process between its last sample and its end
  is lost. RSS is the service's total over its pids at one sample, maximum over the span.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import msgspec

from phoenix_bench.record import Recording, Sample, StatusChange

PERCENTILE_METHOD = "nearest-rank (the value of rank ceil(p/100 * n), 1-based)"
BUCKET_SECONDS = 5.0
MB = 1_000_000  # RSS figures are in MB of 10^6 bytes

# Targets of the issue (2 vCPU, loopback).
PLANNED_MONITORS = 10_000
PLANNED_INTERVAL = 30.0
PLANNED_RATE = PLANNED_MONITORS / PLANNED_INTERVAL
MISSED_PLUS_DUPLICATE_SHARE = 0.001
LATENESS_P99_MS = 250.0
LATENESS_MAX_MS = 1000.0
STATUS_CHANGE_P99_MS = 50.0
NOTIFICATION_P99_MS = 500.0
PROJECTION_LAG_P99_S = 1.0
STACK_CORES = 1.0
SERVICE_RSS_MB = 200.0
# The RSS target is each Phoenix service's; NATS, PostgreSQL and Redis are sampled
# and count towards the whole stack's CPU and memory, without a target of their own.
PHOENIX_SERVICES = frozenset({"gateway", "auth", "scheduler", "executor", "evaluator", "notifier"})
# Sampled to show what the measurement itself cost, never counted as the stack.
HARNESS = frozenset({"farm"})
PER_CORE = {"http": 2500.0, "https": 900.0}
SUSTAINABLE_LATENESS_P99_MS = 1000.0  # the ramp's limit


class Distribution(msgspec.Struct, frozen=True):
    """Exact percentiles of a sample, in the unit the field's name says."""

    count: int
    p50: float | None
    p99: float | None
    max: float | None


class Throughput(msgspec.Struct, frozen=True):
    window_seconds: float
    monitors: int
    planned_per_second: float  # Σ 1/interval over the monitors
    checks: int  # results started in the window, skipped ones not included
    skipped: int  # results "skipped" in the window, and jobs the executors dropped as stale
    checks_per_second: float
    skipped_per_second: float


class Slots(msgspec.Struct, frozen=True):
    expected: float  # Σ window/interval
    observed: int  # distinct (monitor, due) inside the window
    missed: int
    checks: int  # distinct job_ids over the whole recording
    duplicate_jobs: int  # (a): stored results beyond the first of each job_id
    extra_hits: int  # (b): farm requests beyond the distinct jobs of the target's monitors
    duplicates: int  # per target, the larger of (a) and (b)
    monitors_without_due: int
    missed_share: float | None  # of expected
    duplicate_share: float | None  # of checks
    missed_plus_duplicate_share: float | None


class Notifications(msgspec.Struct, frozen=True):
    down_ms: Distribution  # received - checked of the down change it announces
    received: int  # notifications received in the window
    matched: int
    without_change: int  # received in the window, no change before it
    changes_without_notification: int  # alertable changes stored in the window, never announced
    suppressed_flapping: int  # changes in the window that would alert, but the monitor flapped
    repeated: int  # notifications beyond the first for one change


class FollowerLag(msgspec.Struct, frozen=True):
    service: str
    follower: str
    samples: int
    behind: int  # samples where applied < newest
    p99_seconds: float | None
    max_seconds: float | None


class Projection(msgspec.Struct, frozen=True):
    resolution_seconds: float | None  # median time between samples
    p99_seconds: float | None
    max_seconds: float | None
    followers: list[FollowerLag]


class ServiceUsage(msgspec.Struct, frozen=True):
    service: str
    cores: float
    rss_max_mb: float  # the service's total over its pids at one sample
    rss_max_process_mb: float
    pids: int


class Resources(msgspec.Struct, frozen=True):
    span_seconds: float
    stack_cores: float | None
    stack_rss_max_mb: float | None
    services: list[ServiceUsage]


class StoragePerResult(msgspec.Struct, frozen=True):
    postgres_bytes_per_row: float | None
    jetstream_bytes_per_message: float | None
    results_rows: int
    stream_messages: int


class SchemeComparison(msgspec.Struct, frozen=True):
    scheme: str
    engine: float | None  # checks/s on one core, so per core too
    ceiling: float | None
    baseline: float | None
    engine_over_ceiling: float | None
    engine_over_baseline: float | None
    required_per_core: float | None


class Bucket(msgspec.Struct, frozen=True):
    offset: float  # seconds from window_start
    seconds: float
    checks_per_second: float
    lateness_p50_ms: float | None
    lateness_p99_ms: float | None
    cpu_cores: float | None  # the whole sampled stack
    rss_mb: float | None


class Figures(msgspec.Struct, frozen=True):
    window_start: float
    window_end: float
    failure_threshold: int
    percentile_method: str
    throughput: Throughput
    slots: Slots
    lateness_ms: Distribution
    status_change_ms: Distribution  # stored - checked
    notifications: Notifications
    projection: Projection
    resources: Resources
    storage: StoragePerResult | None
    comparison: list[SchemeComparison]
    series: list[Bucket]


class Verdict(msgspec.Struct, frozen=True):
    """One target of the issue: ``passed`` is None when the run did not measure it."""

    name: str
    measured: float | None
    unit: str
    comparison: str  # "<", "<=" or ">="
    limit: float
    passed: bool | None
    miss: float | None  # how far past the limit, in the unit (positive), when failed
    miss_ratio: float | None  # measured / limit, when failed


class StepFigures(msgspec.Struct, frozen=True):
    """One step of a ramp: the offered rate (checks/s) and the figures of its window."""

    rate: float
    figures: Figures


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of ``values`` (need not be sorted); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def distribution(values: Sequence[float]) -> Distribution:
    ordered = sorted(values)
    return Distribution(
        count=len(ordered),
        p50=percentile(ordered, 50),
        p99=percentile(ordered, 99),
        max=ordered[-1] if ordered else None,
    )


def analyse(recording: Recording) -> Figures:
    start, end = recording.window_start, recording.window_end
    return Figures(
        window_start=start,
        window_end=end,
        failure_threshold=recording.failure_threshold,
        percentile_method=PERCENTILE_METHOD,
        throughput=throughput(recording),
        slots=slots(recording),
        lateness_ms=distribution(
            [
                (r.started - r.due) * 1000
                for r in recording.results
                if start <= r.started < end and r.outcome != "skipped"
            ]
        ),
        status_change_ms=distribution(
            [
                (c.stored - c.checked) * 1000
                for c in recording.status_changes
                if start <= c.checked < end
            ]
        ),
        notifications=notifications(recording),
        projection=projection(recording.samples, start, end),
        resources=resources(recording.samples, start, end),
        storage=storage(recording),
        comparison=comparison(recording.comparison),
        series=series(recording, BUCKET_SECONDS),
    )


def throughput(recording: Recording) -> Throughput:
    start, end = recording.window_start, recording.window_end
    seconds = end - start
    in_window = [r for r in recording.results if start <= r.started < end]
    skipped_results = sum(r.outcome == "skipped" for r in in_window)
    checks = len(in_window) - skipped_results
    span = _span(recording.samples, start, end)
    stale = span[-1].stale_jobs - span[0].stale_jobs if len(span) > 1 else 0
    skipped = skipped_results + stale
    return Throughput(
        window_seconds=seconds,
        monitors=len(recording.monitors),
        planned_per_second=sum(1 / m.interval for m in recording.monitors if m.interval > 0),
        checks=checks,
        skipped=skipped,
        checks_per_second=checks / seconds if seconds > 0 else 0.0,
        skipped_per_second=skipped / seconds if seconds > 0 else 0.0,
    )


def missed_slots(dues: Iterable[float], interval: float, start: float, end: float) -> int:
    """Slots of period ``interval`` in ``[start, end)`` with no due among ``dues``."""
    inside = sorted({d for d in dues if start <= d < end})
    if not inside:
        return round((end - start) / interval)
    missed = math.floor((inside[0] - start) / interval)
    missed += math.ceil((end - inside[-1]) / interval) - 1
    for before, after in itertools.pairwise(inside):
        missed += max(0, round((after - before) / interval) - 1)
    return missed


# A request is sent after the check's start and answered before its finish; this
# much slack absorbs the two clocks being read a moment apart.
HIT_SLACK = 0.05


def extra_executions(recording: Recording) -> dict[int, int]:
    """Per target, requests that no stored result accounts for: each result's
    [started, finished] holds exactly one request of its check, so a request outside
    every result, or a second one inside one, was a check run again. Only requests
    in the window that a result could already have accounted for are judged: up to
    ``window_end - timeout`` (a later check may still be running at the read-back)."""
    start, end = recording.window_start, recording.window_end - recording.timeout - 1.0
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in recording.results:
        spans[r.monitor_id].append((r.started - HIT_SLACK, r.finished + HIT_SLACK))
    extra: dict[int, int] = {}
    for m in recording.monitors:
        ordered = sorted(spans.get(m.monitor_id, []))
        starts = [s for s, _ in ordered]
        used: Counter[int] = Counter()
        count = 0
        for hit in recording.target_hit_times.get(m.target, []):
            if not start <= hit < end:
                continue
            i = bisect.bisect_right(starts, hit) - 1
            if i >= 0 and hit <= ordered[i][1]:
                used[i] += 1
                count += used[i] > 1
            else:
                count += 1
        if count:
            extra[m.target] = count
    return extra


def slots(recording: Recording) -> Slots:
    start, end = recording.window_start, recording.window_end
    dues: dict[str, list[float]] = defaultdict(list)
    for r in recording.results:
        if start <= r.due < end:
            dues[r.monitor_id].append(r.due)
    expected = 0.0
    missed = observed = without = 0
    for m in recording.monitors:
        if m.interval <= 0:
            continue
        expected += (end - start) / m.interval
        observed += len(set(dues.get(m.monitor_id, [])))
        without += m.monitor_id not in dues
        missed += missed_slots(dues.get(m.monitor_id, []), m.interval, start, end)
    # Per target, the extra executions as the witness that saw more of them tells:
    # (a) results stored beyond one per job_id, (b) farm requests beyond one per job_id.
    # A check run twice and stored twice shows in both, and counts once.
    stored_extra: Counter[int] = Counter()
    distinct: Counter[int] = Counter()
    per_job = Counter((r.monitor_id, r.job_id) for r in recording.results)
    target_of = {m.monitor_id: m.target for m in recording.monitors}
    for (monitor_id, _), n in per_job.items():
        target = target_of.get(monitor_id, -1)  # -1: a monitor not in the plan
        stored_extra[target] += n - 1
        distinct[target] += 1
    hit_extra = (
        extra_executions(recording)
        if recording.target_hit_times
        else {
            target: max(0, hits - distinct.get(target, 0))
            for target, hits in recording.target_hits.items()
        }
    )
    duplicates = sum(
        max(stored_extra.get(t, 0), hit_extra.get(t, 0)) for t in set(stored_extra) | set(hit_extra)
    )
    checks = sum(distinct.values())
    missed_share = missed / expected if expected else None
    duplicate_share = duplicates / checks if checks else None
    return Slots(
        expected=expected,
        observed=observed,
        missed=missed,
        checks=checks,
        duplicate_jobs=sum(stored_extra.values()),
        extra_hits=sum(hit_extra.values()),
        duplicates=duplicates,
        monitors_without_due=without,
        missed_share=missed_share,
        duplicate_share=duplicate_share,
        missed_plus_duplicate_share=(missed_share or 0.0) + (duplicate_share or 0.0)
        if missed_share is not None or duplicate_share is not None
        else None,
    )


def alert_of(change: StatusChange) -> str | None:
    """The notification a change calls for: the notifier's ``alert_event_of`` for a
    status change (a change while flapping is no news on its own)."""
    return None if change.flapping else status_alert(change)


def status_alert(change: StatusChange) -> str | None:
    """The alert a status change would make, flapping aside."""
    if change.status == "down":
        return "down"
    if change.previous == "down" and change.status in ("up", "degraded"):
        return "recovered"
    if change.status == "degraded":
        return "degraded"
    return None


def notifications(recording: Recording) -> Notifications:
    """Each notification joined to the latest change of its monitor and kind stored before it.

    All notifications and changes of the recording take part in the join; the counts
    and the latencies are of those in the window (notifications by ``received``,
    changes by ``stored``).
    """
    start, end = recording.window_start, recording.window_end
    changes: dict[tuple[str, str], list[StatusChange]] = defaultdict(list)
    for c in sorted(recording.status_changes, key=lambda c: c.stored):
        if (kind := alert_of(c)) is not None:
            changes[(c.monitor_id, kind)].append(c)
    announced: Counter[int] = Counter()
    down_ms: list[float] = []
    received = matched = without_change = 0
    for n in recording.notifications:
        in_window = start <= n.received < end
        received += in_window
        candidates = [c for c in changes.get((n.monitor_id, n.event), []) if c.stored <= n.received]
        if not candidates:
            without_change += in_window
            continue
        change = candidates[-1]
        announced[id(change)] += 1
        if in_window:
            matched += 1
            if n.event == "down":
                down_ms.append((n.received - change.checked) * 1000)
    never = sum(
        1
        for listed in changes.values()
        for c in listed
        if start <= c.stored < end and announced[id(c)] == 0
    )
    suppressed = sum(
        1
        for c in recording.status_changes
        if c.flapping and start <= c.stored < end and status_alert(c) is not None
    )
    return Notifications(
        down_ms=distribution(down_ms),
        received=received,
        matched=matched,
        without_change=without_change,
        changes_without_notification=never,
        suppressed_flapping=suppressed,
        repeated=sum(n - 1 for n in announced.values()),
    )


def sample_period(samples: Sequence[Sample]) -> float | None:
    times = sorted(s.at for s in samples)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    if not gaps:
        return None
    ordered = sorted(gaps)
    return ordered[(len(ordered) - 1) // 2]


def projection(samples: Sequence[Sample], start: float, end: float) -> Projection:
    series: dict[tuple[str, str], list[tuple[float, int, int]]] = defaultdict(list)
    for s in sorted(samples, key=lambda s: s.at):
        for f in s.followers:
            series[(f.service, f.follower)].append((s.at, f.applied, f.newest))
    followers: list[FollowerLag] = []
    everything: list[float] = []
    for (service, follower), points in sorted(series.items()):
        lags: list[float] = []
        behind = 0
        newest_so_far = list(itertools.accumulate((n for _, _, n in points), max))
        for at, applied, newest in points:
            if applied >= newest:
                lag = 0.0
            else:
                # The first sample that showed an event beyond `applied` (this one at worst).
                lag = at - points[bisect.bisect_right(newest_so_far, applied)][0]
            if start <= at < end:
                lags.append(lag)
                behind += applied < newest
        everything += lags
        d = distribution(lags)
        followers.append(FollowerLag(service, follower, len(lags), behind, d.p99, d.max))
    overall = distribution(everything)
    return Projection(
        resolution_seconds=sample_period(samples),
        p99_seconds=overall.p99,
        max_seconds=overall.max,
        followers=followers,
    )


def _span(samples: Sequence[Sample], start: float, end: float) -> list[Sample]:
    """The samples from the last at or before ``start`` (else the first after) to ``end``."""
    ordered = sorted(samples, key=lambda s: s.at)
    before = [i for i, s in enumerate(ordered) if s.at <= start]
    first = before[-1] if before else 0
    return [s for s in ordered[first:] if s.at < end]


def cpu_increments(span: Sequence[Sample]) -> list[dict[str, float]]:
    """CPU seconds per service used between each sample of ``span`` and the one before it."""
    last: dict[tuple[str, int], float] = {}
    steps: list[dict[str, float]] = []
    for i, sample in enumerate(span):
        used: dict[str, float] = defaultdict(float)
        for p in sample.processes:
            key = (p.service, p.pid)
            previous = last.get(key)
            if previous is None:
                # New since the span's start: all its CPU is within the span.
                used[p.service] += p.cpu_seconds if i > 0 else 0.0
            elif p.cpu_seconds >= previous:
                used[p.service] += p.cpu_seconds - previous
            else:  # the pid now belongs to a new process
                used[p.service] += p.cpu_seconds
            last[key] = p.cpu_seconds
        steps.append(dict(used))
    return steps


def resources(samples: Sequence[Sample], start: float, end: float) -> Resources:
    span = _span(samples, start, end)
    if len(span) < 2:
        return Resources(span_seconds=0.0, stack_cores=None, stack_rss_max_mb=None, services=[])
    seconds = span[-1].at - span[0].at
    used: dict[str, float] = defaultdict(float)
    for step in cpu_increments(span):
        for service, cpu in step.items():
            used[service] += cpu
    rss_total: dict[str, float] = defaultdict(float)
    rss_process: dict[str, float] = defaultdict(float)
    pids: dict[str, set[int]] = defaultdict(set)
    stack_rss = 0.0
    for sample in span:
        per_service: dict[str, float] = defaultdict(float)
        for p in sample.processes:
            per_service[p.service] += p.rss_bytes / MB
            rss_process[p.service] = max(rss_process[p.service], p.rss_bytes / MB)
            pids[p.service].add(p.pid)
        for service, mb in per_service.items():
            rss_total[service] = max(rss_total[service], mb)
        stack_rss = max(
            stack_rss, sum(mb for name, mb in per_service.items() if name not in HARNESS)
        )
    services = [
        ServiceUsage(
            service=service,
            cores=used[service] / seconds if seconds > 0 else 0.0,
            rss_max_mb=rss_total[service],
            rss_max_process_mb=rss_process[service],
            pids=len(pids[service]),
        )
        for service in sorted(pids)
    ]
    stack = [s for s in services if s.service not in HARNESS]
    return Resources(
        span_seconds=seconds,
        stack_cores=sum(s.cores for s in stack),
        stack_rss_max_mb=stack_rss,
        services=services,
    )


def storage(recording: Recording) -> StoragePerResult | None:
    s = recording.storage
    if s is None:
        return None
    return StoragePerResult(
        postgres_bytes_per_row=s.results_table_bytes / s.results_rows if s.results_rows else None,
        jetstream_bytes_per_message=s.stream_bytes / s.stream_messages
        if s.stream_messages
        else None,
        results_rows=s.results_rows,
        stream_messages=s.stream_messages,
    )


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def comparison(rates: dict[str, dict[str, float]]) -> list[SchemeComparison]:
    rows = []
    for scheme in sorted(rates, key=lambda s: (s not in PER_CORE, s)):
        by = rates[scheme]
        engine, ceiling, baseline = by.get("engine"), by.get("ceiling"), by.get("baseline")
        rows.append(
            SchemeComparison(
                scheme=scheme,
                engine=engine,
                ceiling=ceiling,
                baseline=baseline,
                engine_over_ceiling=_ratio(engine, ceiling),
                engine_over_baseline=_ratio(engine, baseline),
                required_per_core=PER_CORE.get(scheme),
            )
        )
    return rows


def series(recording: Recording, bucket: float) -> list[Bucket]:
    start, end = recording.window_start, recording.window_end
    count = max(0, math.ceil((end - start) / bucket))
    lateness: list[list[float]] = [[] for _ in range(count)]
    checks = [0] * count
    for r in recording.results:
        if start <= r.started < end and r.outcome != "skipped":
            i = int((r.started - start) // bucket)
            checks[i] += 1
            lateness[i].append((r.started - r.due) * 1000)
    cpu = [0.0] * count
    cpu_seconds = [0.0] * count
    rss: list[float | None] = [None] * count
    span = _span(recording.samples, start, end)
    for previous, sample, step in zip(span, span[1:], cpu_increments(span)[1:], strict=False):
        if sample.at < start:
            continue
        i = int((sample.at - start) // bucket)
        cpu[i] += sum(step.values())
        cpu_seconds[i] += sample.at - previous.at
    for sample in span:
        if sample.at >= start:
            i = int((sample.at - start) // bucket)
            mb = sum(p.rss_bytes for p in sample.processes) / MB
            rss[i] = max(mb, rss[i] or 0.0)
    buckets = []
    for i in range(count):
        seconds = min(bucket, end - start - i * bucket)
        buckets.append(
            Bucket(
                offset=i * bucket,
                seconds=seconds,
                checks_per_second=checks[i] / seconds,
                lateness_p50_ms=percentile(lateness[i], 50),
                lateness_p99_ms=percentile(lateness[i], 99),
                cpu_cores=cpu[i] / cpu_seconds[i] if cpu_seconds[i] > 0 else None,
                rss_mb=rss[i],
            )
        )
    return buckets


def _verdict(
    name: str, measured: float | None, unit: str, comparison: str, limit: float
) -> Verdict:
    if measured is None:
        return Verdict(name, None, unit, comparison, limit, None, None, None)
    passed = {
        "<": measured < limit,
        "<=": measured <= limit,
        ">=": measured >= limit,
    }[comparison]
    miss = None if passed else abs(measured - limit)
    ratio = None if passed or not limit else measured / limit
    return Verdict(name, measured, unit, comparison, limit, passed, miss, ratio)


def verdicts(figures: Figures) -> list[Verdict]:
    """One row per target of the issue, in the issue's order."""
    slots, late = figures.slots, figures.lateness_ms
    share = slots.missed_plus_duplicate_share
    rows = [
        _verdict(
            f"load: planned checks/s ({PLANNED_MONITORS:,} monitors at {PLANNED_INTERVAL:.0f} s)",
            figures.throughput.planned_per_second,
            "checks/s",
            ">=",
            round(PLANNED_RATE, 1),
        ),
        _verdict(
            "missed + duplicate checks",
            share * 100 if share is not None else None,
            "%",
            "<=",
            MISSED_PLUS_DUPLICATE_SHARE * 100,
        ),
        _verdict("scheduler lateness p99", late.p99, "ms", "<", LATENESS_P99_MS),
        _verdict("scheduler lateness max", late.max, "ms", "<", LATENESS_MAX_MS),
        _verdict(
            "result → status change p99",
            figures.status_change_ms.p99,
            "ms",
            "<",
            STATUS_CHANGE_P99_MS,
        ),
        _verdict(
            "failing check → notification p99",
            figures.notifications.down_ms.p99,
            "ms",
            "<",
            NOTIFICATION_P99_MS,
        ),
        _verdict(
            "projection lag p99", figures.projection.p99_seconds, "s", "<", PROJECTION_LAG_P99_S
        ),
        _verdict("whole stack CPU", figures.resources.stack_cores, "cores", "<=", STACK_CORES),
    ]
    rows += [
        _verdict(f"{s.service} RSS max", s.rss_max_mb, "MB", "<", SERVICE_RSS_MB)
        for s in figures.resources.services
        if s.service in PHOENIX_SERVICES
    ]
    by_scheme = {c.scheme: c for c in figures.comparison}
    for scheme, label in (("https", "HTTPS"), ("http", "HTTP")):
        c = by_scheme.get(scheme)
        rows.append(
            _verdict(
                f"executor {label} checks/s per core",
                c.engine if c else None,
                "checks/s",
                ">=",
                PER_CORE[scheme],
            )
        )
    return rows


def sustainable(steps: Sequence[StepFigures]) -> float:
    """The highest rate of a ramp that the stack sustained, 0.0 when none.

    Steps are taken in order of rate; the answer is the rate of the last step whose
    lateness p99 is at most 1 s before the first step that is over it (or that has no
    lateness at all). A step that passes above a failing one does not count: the ramp
    found the knee at the first failure.
    """
    best = 0.0
    for step in sorted(steps, key=lambda s: s.rate):
        p99 = step.figures.lateness_ms.p99
        if p99 is None or p99 > SUSTAINABLE_LATENESS_P99_MS:
            break
        best = step.rate
    return best
