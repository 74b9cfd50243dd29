"""``just bench-executor`` as a newcomer runs it: from a checkout with no bench/results yet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from phoenix_bench.executor import main


@pytest.mark.integration
def test_the_engine_bench_writes_its_record_where_no_results_folder_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    main(["--seconds", "1", "--baseline-seconds", "0.5", "--concurrency", "20", "--builtin"])
    # The exit code is the verdict against the per-core targets: timing, not asserted here.
    [written] = (tmp_path / "bench" / "results").glob("executor-*.json")
    record = json.loads(written.read_text())
    assert {row["scheme"] for row in record["rows"]} == {"http", "https"}
    assert all(row["engine_per_s"] > 0 and row["engine_errors"] == 0 for row in record["rows"])
