"""The figures of a whole-stack run, from handcrafted recordings with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from phoenix_bench.analysis import (
    Distribution,
    StepFigures,
    analyse,
    extra_executions,
    missed_slots,
    percentile,
    sustainable,
    verdicts,
)
from phoenix_bench.record import (
    FollowerSample,
    MonitorPlan,
    Notification,
    ProcessSample,
    Recording,
    Result,
    Sample,
    StatusChange,
    Storage,
)
from phoenix_bench.stack import stale_jobs
from phoenix_bench.summary import miss_text, write_report

MB = 1_000_000


def plan(monitor_id: str, target: int, interval: float) -> MonitorPlan:
    return MonitorPlan(monitor_id, target, f"http://127.0.0.1:9/t/{target}", interval)


def result(
    monitor_id: str, due: float, late: float = 0.5, outcome: str = "up", job: str | None = None
) -> Result:
    started = due + late
    return Result(
        monitor_id=monitor_id,
        job_id=job or f"{monitor_id}:local:{int(due * 1000)}",
        due=due,
        started=started,
        finished=started + 0.25,
        outcome=outcome,
        stored=started + 0.5,
    )


def recording(**fields: object) -> Recording:
    base: dict[str, object] = {
        "started": 0.0,
        "window_start": 100.0,
        "window_end": 200.0,
        "monitors": [],
        "failure_threshold": 3,
    }
    return Recording(**(base | fields))  # type: ignore[arg-type]


def test_percentile_is_nearest_rank() -> None:
    values = [50.0, 15.0, 40.0, 20.0, 35.0]
    assert percentile(values, 30) == 20.0
    assert percentile(values, 40) == 20.0
    assert percentile(values, 50) == 35.0
    assert percentile(values, 99) == 50.0
    assert percentile(values, 0) == 15.0
    assert percentile([], 50) is None


def test_missed_slots_at_the_edges_follow_the_phase() -> None:
    # Slot 104 is missing: round(14/10) - 1 would say 0, the phase says 1.
    assert missed_slots([114.0, 124.0, 134.0], 10.0, 100.0, 140.0) == 1
    # The slot after 134 would be 144, outside [100, 140): none missed at the end.
    assert missed_slots([104.0, 114.0, 124.0, 134.0], 10.0, 100.0, 140.0) == 0
    # A due exactly on window_start is inside; the one at window_end is not.
    assert missed_slots([100.0, 110.0, 120.0], 10.0, 100.0, 140.0) == 1
    assert missed_slots([], 30.0, 100.0, 200.0) == 3


def test_missed_and_duplicate_checks() -> None:
    m1 = [result("m1", due) for due in (80.0, 90.0, *range(100, 200, 10)) if due != 130]
    m1.append(result("m1", 150.0, late=0.75))  # job m1:150 ran and was stored twice
    m2 = [result("m2", float(due)) for due in range(114, 200, 10)]  # slot 104 missing
    m4 = [result("m4", 125.0), result("m4", 185.0)]  # slot 155 missing
    rec = recording(
        monitors=[
            plan("m1", 1, 10.0),
            plan("m2", 2, 10.0),
            plan("m3", 3, 30.0),
            plan("m4", 4, 30.0),
        ],
        results=m1 + m2 + m4,
        # m1: 11 jobs, one ran twice; m2: 9 jobs, the farm saw 2 more requests; m3: none.
        target_hits={1: 12, 2: 11, 4: 2},
    )
    slots = analyse(rec).slots
    assert slots.expected == pytest.approx(10 + 10 + 100 / 30 + 100 / 30)
    assert slots.observed == 9 + 9 + 0 + 2
    assert slots.missed == 1 + 1 + 3 + 1  # m1 slot 130, m2 slot 104, m3 all three, m4 slot 155
    assert slots.monitors_without_due == 1
    assert slots.checks == 11 + 9 + 0 + 2
    assert slots.duplicate_jobs == 1
    assert slots.extra_hits == 1 + 2  # m1's second run reached the farm too
    assert slots.duplicates == 1 + 2  # m1's double run counts once
    assert slots.missed_share == pytest.approx(6 / slots.expected)
    assert slots.duplicate_share == pytest.approx(3 / 22)
    assert slots.missed_plus_duplicate_share == pytest.approx(6 / slots.expected + 3 / 22)


def test_requests_outside_every_result_or_twice_in_one_are_extra_executions() -> None:
    # Checks at 110 and 120 (each running 110.5-110.75, 120.5-120.75).
    rec = recording(
        monitors=[plan("m", 7, 10.0)],
        results=[result("m", 110.0), result("m", 120.0)],
        target_hit_times={
            7: [
                110.6,  # the first check's request
                120.6,  # the second's
                120.7,  # the second ran twice at once: one result stored
                150.0,  # a check run again later, its result deduplicated
                195.0,  # too close to the end to judge (timeout 10 s): not counted
            ]
        },
        timeout=10.0,
    )
    assert extra_executions(rec) == {7: 2}


def test_throughput_counts_skipped_checks_apart() -> None:
    rec = recording(
        window_start=0.0,
        window_end=10.0,
        monitors=[plan("m", 1, 2.0), plan("n", 2, 4.0)],
        results=[
            Result("m", "a", 0.0, 1.0, 1.5, "up", 1.5),
            Result("m", "b", 2.0, 2.0, 2.5, "down", 2.5),
            Result("m", "c", 3.0, 3.0, 3.5, "up", 3.5),
            Result("m", "d", 9.0, 9.5, 9.75, "up", 9.75),
            Result("m", "e", 5.0, 5.0, 5.0, "skipped", 5.0),
            Result("m", "f", 10.0, 10.0, 10.5, "up", 10.5),  # window_end: outside
            Result("m", "g", -1.0, -1.0, -0.5, "up", -0.5),
        ],
    )
    t = analyse(rec).throughput
    assert (t.checks, t.skipped) == (4, 1)
    assert t.checks_per_second == 0.4
    assert t.skipped_per_second == 0.1
    assert t.planned_per_second == 0.75


def test_stale_jobs_count_as_skipped_between_the_samples_that_bound_the_window() -> None:
    # Stale jobs leave no result: only the executors' counter, sampled, shows them.
    samples = [Sample(at, [], [], stale) for at, stale in [(-1.0, 5), (4.0, 7), (9.5, 11)]]
    rec = recording(
        window_start=0.0,
        window_end=10.0,
        monitors=[plan("m", 1, 2.0)],
        results=[Result("m", "a", 0.0, 1.0, 1.5, "up", 1.5)],
        samples=samples,
    )
    t = analyse(rec).throughput
    assert (t.checks, t.skipped) == (1, 6)
    assert t.skipped_per_second == 0.6


def test_stale_jobs_are_read_from_the_executor_metrics() -> None:
    exposition = "\n".join(
        [
            "# HELP phoenix_checks_total Check jobs handled.",
            'phoenix_checks_total{outcome="up",type="http"} 120.0',
            'phoenix_checks_total{outcome="stale",type="http"} 3.0',
            'phoenix_checks_total{outcome="stale",type="tcp"} 2.0',
            'phoenix_checks_created{outcome="stale",type="tcp"} 1.7e9',
        ]
    )
    assert stale_jobs(exposition) == 5


def test_lateness_percentiles_in_the_window() -> None:
    results = [result("m", 99.0 + k, late=k / 1000) for k in range(1, 101)]
    results.append(result("m", 90.0, late=5.0))  # started in the warm-up
    results.append(result("m", 150.5, late=9.0, outcome="skipped"))
    lateness = analyse(recording(monitors=[plan("m", 1, 1.0)], results=results)).lateness_ms
    assert lateness.count == 100
    assert lateness.p50 == pytest.approx(50.0)
    assert lateness.p99 == pytest.approx(99.0)
    assert lateness.max == pytest.approx(100.0)


def test_status_change_and_notification_latency() -> None:
    changes = [
        StatusChange("m5", "down", "up", checked=90.0, stored=90.5),  # warm-up
        StatusChange("m3", "up", "pending", checked=105.0, stored=105.0625),  # no news
        StatusChange("m1", "down", "up", checked=110.0, stored=110.25),
        StatusChange("m2", "down", "up", checked=120.0, stored=120.125),  # never announced
        StatusChange("m1", "up", "down", checked=150.0, stored=150.5),
        StatusChange("m1", "down", "up", checked=160.0, stored=160.25),
        # While flapping the notifier sends one flapping notice, not this down.
        StatusChange("m6", "down", "up", checked=170.0, stored=170.25, flapping=True),
    ]
    notifications = [
        Notification("m1", "down", received=110.75, occurred=110.25),
        Notification("m1", "recovered", received=151.0, occurred=150.5),
        Notification("m1", "down", received=160.5, occurred=160.25),  # the later down
        Notification("m1", "down", received=161.0, occurred=160.25),  # the same, again
        Notification("m4", "down", received=130.0, occurred=129.0),  # no change for it
        Notification("m5", "down", received=91.0, occurred=90.5),  # warm-up
    ]
    figures = analyse(recording(status_changes=changes, notifications=notifications))
    assert figures.status_change_ms == Distribution(count=6, p50=250.0, p99=500.0, max=500.0)
    n = figures.notifications
    assert n.down_ms == Distribution(count=3, p50=750.0, p99=1000.0, max=1000.0)
    assert (n.received, n.matched, n.without_change) == (5, 4, 1)
    assert n.repeated == 1
    assert n.changes_without_notification == 1
    assert n.suppressed_flapping == 1


def test_projection_lag_behind_and_caught_up() -> None:
    series = [(10, 10), (10, 12), (11, 15), (11, 15), (14, 15), (15, 15), (15, 15)]
    samples = [
        Sample(
            at=100.0 + i,
            processes=[],
            followers=[
                FollowerSample("evaluator", "health", applied, newest),
                FollowerSample("notifier", "routing", newest, newest),
            ],
        )
        for i, (applied, newest) in enumerate(series)
    ]
    projection = analyse(recording(window_end=106.0, samples=samples)).projection
    assert projection.resolution_seconds == 1.0
    health, routing = projection.followers
    # Lags 0, 0 (12 first seen now), 1, 2, 2 (15 seen at 102), 0; the sample at 106 is outside.
    assert (health.service, health.follower, health.samples, health.behind) == (
        "evaluator",
        "health",
        6,
        4,
    )
    assert (health.p99_seconds, health.max_seconds) == (2.0, 2.0)
    assert (routing.behind, routing.p99_seconds, routing.max_seconds) == (0, 0.0, 0.0)
    assert (projection.p99_seconds, projection.max_seconds) == (2.0, 2.0)


def cpu_samples() -> list[Sample]:
    def at(t: float, *processes: ProcessSample) -> Sample:
        return Sample(at=t, processes=list(processes), followers=[])

    def p(service: str, pid: int, cpu: float, rss_mb: int) -> ProcessSample:
        return ProcessSample(service, pid, cpu, rss_mb * MB)

    return [
        at(98.0, p("executor", 1, 9.0, 90), p("evaluator", 3, 4.0, 250)),  # before the span
        at(
            100.0,
            p("executor", 1, 10.0, 100),
            p("evaluator", 3, 5.0, 110),
            p("gateway", 7, 20.0, 50),
        ),
        at(
            102.0,
            p("executor", 1, 11.0, 120),
            p("evaluator", 3, 5.5, 110),
            p("gateway", 7, 21.0, 50),
        ),
        # The executor's pid 1 dies after this sample; the gateway's pid 7 is a new process.
        at(
            104.0,
            p("executor", 1, 12.0, 150),
            p("evaluator", 3, 6.0, 250),
            p("gateway", 7, 0.25, 40),
        ),
        at(
            106.0, p("executor", 2, 0.5, 80), p("evaluator", 3, 6.5, 110), p("gateway", 7, 0.75, 40)
        ),
        at(108.0, p("executor", 2, 1.5, 90), p("evaluator", 3, 7.0, 110), p("gateway", 7, 1.0, 40)),
        at(110.0, p("executor", 2, 100.0, 90), p("evaluator", 3, 70.0, 110)),  # window_end
    ]


def test_cpu_and_rss_per_service_across_a_restart() -> None:
    resources = analyse(recording(window_end=110.0, samples=cpu_samples())).resources
    assert resources.span_seconds == 8.0
    usage = {s.service: s for s in resources.services}
    assert usage["executor"].cores == 3.5 / 8  # 1 + 1 by pid 1, 0.5 + 1 by pid 2
    assert usage["executor"].pids == 2
    assert usage["executor"].rss_max_mb == 150.0
    assert usage["evaluator"].cores == 2.0 / 8
    assert usage["evaluator"].rss_max_mb == 250.0
    assert usage["gateway"].cores == 2.0 / 8  # 1, then 0.25 + 0.5 + 0.25 by the new process
    assert resources.stack_cores == 0.9375
    assert resources.stack_rss_max_mb == 150.0 + 250.0 + 40.0


def test_a_missed_target_says_by_how_much() -> None:
    rec = recording(
        window_end=110.0,
        samples=cpu_samples(),
        comparison={
            "https": {"engine": 720.0, "ceiling": 1440.0, "baseline": 90.0},
            "http": {"engine": 3000.0, "ceiling": 6000.0, "baseline": 300.0},
        },
    )
    figures = analyse(rec)
    https, http = figures.comparison[1], figures.comparison[0]
    assert (http.scheme, http.engine_over_ceiling, http.engine_over_baseline) == ("http", 0.5, 10.0)
    assert (https.scheme, https.engine_over_ceiling, https.engine_over_baseline) == (
        "https",
        0.5,
        8.0,
    )
    rows = {v.name: v for v in verdicts(figures)}
    rss = rows["evaluator RSS max"]
    assert (rss.passed, rss.measured, rss.miss, rss.miss_ratio) == (False, 250.0, 50.0, 1.25)
    assert miss_text(rss) == "+50 MB (1.25x the limit)"
    slow = rows["executor HTTPS checks/s per core"]
    assert (slow.passed, slow.miss, slow.miss_ratio) == (False, 180.0, 0.8)
    assert miss_text(slow) == "-180.0 checks/s (0.80x the limit)"
    assert rows["executor HTTP checks/s per core"].passed is True
    assert rows["executor RSS max"].passed is True
    assert rows["whole stack CPU"].passed is True
    assert rows["failing check → notification p99"].passed is None  # nothing to measure
    assert rows["scheduler lateness p99"].passed is None


def test_storage_per_result() -> None:
    storage = Storage(
        results_rows=1000, results_table_bytes=512_000, stream_messages=2000, stream_bytes=600_000
    )
    figures = analyse(recording(storage=storage)).storage
    assert figures is not None
    assert (figures.postgres_bytes_per_row, figures.jetstream_bytes_per_message) == (512.0, 300.0)


def test_series_in_five_second_buckets() -> None:
    rec = recording(
        window_start=0.0,
        window_end=12.5,
        results=[
            Result("m", "a", 0.0, 1.0, 1.5, "up", 1.5),
            Result("m", "b", 2.0, 2.5, 2.5, "up", 2.5),
            Result("m", "c", 6.0, 6.25, 6.5, "up", 6.5),
            Result("m", "d", 11.0, 11.0, 11.5, "up", 11.5),
        ],
        samples=[
            Sample(0.0, [ProcessSample("executor", 1, 0.0, 10 * MB)], []),
            Sample(2.0, [ProcessSample("executor", 1, 1.0, 20 * MB)], []),
            Sample(4.0, [ProcessSample("executor", 1, 1.5, 30 * MB)], []),
            Sample(6.0, [ProcessSample("executor", 1, 1.5, 10 * MB)], []),
        ],
    )
    first, second, third = analyse(rec).series
    assert (first.offset, first.seconds, first.checks_per_second) == (0.0, 5.0, 0.4)
    assert (first.lateness_p50_ms, first.lateness_p99_ms) == (500.0, 1000.0)
    assert (first.cpu_cores, first.rss_mb) == (0.375, 30.0)
    assert (second.checks_per_second, second.lateness_p50_ms, second.cpu_cores) == (0.2, 250.0, 0.0)
    assert (third.offset, third.seconds, third.checks_per_second) == (10.0, 2.5, 0.4)
    assert (third.lateness_p99_ms, third.cpu_cores, third.rss_mb) == (0.0, None, None)


def test_sustainable_rate_is_the_last_step_before_lateness_passes_one_second() -> None:
    figures = analyse(recording())

    def step(rate: float, p99: float | None) -> StepFigures:
        lateness = Distribution(count=1, p50=p99, p99=p99, max=p99)
        return StepFigures(rate, msgspec.structs.replace(figures, lateness_ms=lateness))

    ramp = [step(400.0, 800.0), step(100.0, 50.0), step(300.0, 1500.0), step(200.0, 1000.0)]
    assert sustainable(ramp) == 200.0  # 400 passes again, but only after 300 failed
    assert sustainable([step(100.0, 1001.0)]) == 0.0
    assert sustainable([step(100.0, 10.0), step(200.0, None)]) == 100.0


def test_write_report(tmp_path: Path) -> None:
    rec = recording(
        window_end=110.0,
        monitors=[plan("m", 1, 10.0)],
        results=[result("m", 100.0), result("m", 105.0, late=2.0)],
        samples=cpu_samples(),
        target_hits={1: 2},
        comparison={"http": {"engine": 3000.0, "ceiling": 6000.0, "baseline": 300.0}},
        machine={"commit": "abc1234", "date": "2026-11-24", "cpus": "2"},
    )
    figures = analyse(rec)
    written = write_report(tmp_path / "run", rec, figures, title="Phoenix bench")
    assert set(written) >= {"recording", "figures", "summary", "throughput", "lateness"}
    assert msgspec.json.decode(written["recording"].read_bytes(), type=Recording) == rec
    assert json.loads(written["figures"].read_text())["throughput"]["checks"] == 2
    summary = written["summary"].read_text()
    assert summary.startswith("# Phoenix bench\n")
    assert "| commit | abc1234 |" in summary
    assert "| target | measured | limit | result | miss |" in summary
    assert (
        "| scheduler lateness max | 2,000.0 ms | < 1,000.0 ms | **FAIL** "
        "| +1,000.0 ms (2.00x the limit) |" in summary
    )
    assert "| evaluator | 0.25 | 250 | 250 | 1 |" in summary
    for name in ("throughput", "lateness", "resources"):
        assert written[name].read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), name
