"""``phoenix bench`` end to end, small: the harness works, whatever the figures are.

200 monitors for 60 s on this session's servers; no timing is asserted here
(the figures are the benchmark's business, recorded in docs/benchmarks.md),
only that every figure was measured from what really happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from phoenix_bench.record import Recording

from tests.infra import Servers, create_database, drop_database, new_namespace

pytestmark = pytest.mark.e2e


@pytest.fixture
def database(servers: Servers) -> Iterator[str]:
    import asyncio

    name = f"phoenix_bench_{new_namespace()}"
    url = asyncio.run(create_database(servers.admin_database_url, name))
    yield url
    asyncio.run(drop_database(servers.admin_database_url, name))


def test_a_small_run_measures_every_figure_and_writes_its_report(
    servers: Servers, database: str, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "phoenix_cli",
            "bench",
            "--monitors",
            "200",
            "--interval",
            "5",
            "--warmup",
            "10",
            "--duration",
            "60",
            "--fault-period",
            "20",
            "--error-share",
            "0.05",
            "--compare-seconds",
            "1",
            "--out",
            str(out),
        ],
        env={
            **os.environ,
            "PHOENIX_NATS_URL": servers.nats_url,
            "PHOENIX_DATABASE_URL": database,
            "PHOENIX_REDIS_URL": servers.redis_url,
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    (run,) = out.iterdir()
    recording = msgspec.json.decode((run / "recording.json").read_bytes(), type=Recording)
    assert recording.namespace
    try:
        assert len(recording.monitors) == 200
        # 200 monitors every 5 s for 60 s: about 2,400 checks in the window.
        in_window = [
            r
            for r in recording.results
            if recording.window_start <= r.started < recording.window_end
        ]
        assert len(in_window) > 1000
        # 40 checks/s keep up at once: the wait for the backlog ends after its hold.
        assert recording.settle_seconds is not None
        assert 10.0 <= recording.settle_seconds < 120.0
        # Every check the stack ran and stored reached the farm while it ran: the
        # farm's request times and the stored results tell the same story.
        target_of = {m.monitor_id: m.target for m in recording.monitors}
        ran = [
            r
            for r in in_window
            if r.outcome != "skipped" and r.started < recording.window_end - recording.timeout
        ]
        unseen = [
            r
            for r in ran
            if not any(
                r.started - 0.05 <= t <= r.finished + 0.05
                for t in recording.target_hit_times[target_of[r.monitor_id]]
            )
        ]
        assert ran
        assert unseen == []
        # 5 % of targets answer 500 for 20 s at a time: some monitors went down and the
        # sink heard of it.
        assert any(c.status == "down" for c in recording.status_changes)
        assert any(n.event == "down" for n in recording.notifications)
        assert {s.service for sample in recording.samples for s in sample.processes} == {
            "gateway",
            "auth",
            "scheduler",
            "executor",
            "evaluator",
            "notifier",
            "farm",  # sampled to show what the measurement cost, apart from the stack
        }
        assert recording.storage is not None
        assert recording.storage.results_rows > 0
        assert set(recording.comparison) == {"http", "https"}
        figures = json.loads((run / "figures.json").read_text())
        assert figures  # the analysis ran on the recording
        summary = (run / "summary.md").read_text()
        assert "lateness" in summary.lower()
        for plot in ("throughput.png", "lateness.png"):
            assert (run / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        # The run deleted its own streams and buckets from the shared NATS.
        import asyncio

        assert asyncio.run(streams_of(servers.nats_url, recording.namespace)) == []


async def streams_of(nats_url: str, namespace: str) -> list[str]:
    import nats

    client = await nats.connect(nats_url)
    try:
        from phoenix_platform.messaging.streams import stream_names

        names = await stream_names(client.jetstream())
    finally:
        await client.close()
    return [n for n in names if namespace.upper() in n]
