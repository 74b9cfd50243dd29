"""A run's bookkeeping: which ramp step is reported (the last one that kept lateness
p99 within 1 s), when the backlog counts as drained, the title, the commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from phoenix_bench.record import RampStep
from phoenix_bench.run import Settling, main, sustained_step, title_of
from phoenix_bench.stack import Options, machine
from phoenix_bench.summary import settled_text


def step(monitors: int, p99: float) -> RampStep:
    return RampStep(monitors, monitors / 30, monitors / 30, 0.01, p99, float(monitors), 1.0e9)


def test_the_last_step_within_a_second_is_the_sustained_one() -> None:
    steps = [step(2000, 0.02), step(4000, 0.3), step(6000, 0.9), step(8000, 16.0)]
    assert sustained_step(steps).monitors == 6000


def test_when_no_step_kept_up_the_first_is_reported() -> None:
    assert sustained_step([step(2000, 2.0), step(4000, 9.0)]).monitors == 2000


def test_the_backlog_has_drained_once_it_stayed_small_for_the_hold() -> None:
    settling = Settling(allowed=333, hold=10.0)
    seen = [
        settling.observe(at, backlog)
        for at, backlog in [
            (0.0, 9000),
            (1.0, 300),
            (6.0, 120),
            (10.0, 400),  # back above: start again
            (11.0, 50),
            (20.0, 60),
            (21.0, 40),
        ]
    ]
    assert seen == [False, False, False, False, False, False, True]


def test_the_report_says_whether_the_backlog_drained() -> None:
    assert "did not drain" in settled_text(None)
    assert "42 s" in settled_text(42.4)
    assert "No wait" in settled_text(0.0)


def test_a_ramp_report_is_titled_by_its_step_not_by_monitors() -> None:
    assert title_of(Options(monitors=10_000, interval=30)) == (
        "10,000 monitors every 30 s (333 checks/s)"
    )
    assert title_of(Options(monitors=10_000, interval=30), 4000) == (
        "Ramp: 4,000 more monitors a step, each checked every 30 s"
    )


def test_a_run_names_the_commit_it_ran_and_whether_it_had_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout.strip()

    git("init", "-q")
    (tmp_path / "a.txt").write_text("one")
    git("add", "a.txt")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    monkeypatch.chdir(tmp_path)
    head = git("rev-parse", "--short=7", "HEAD")
    assert machine()["commit"] == head
    (tmp_path / "a.txt").write_text("two")
    assert machine()["commit"] == f"{head}-dirty"


@pytest.mark.parametrize(
    "bad",
    [
        ["--monitors", "-5"],
        ["--ramp-step", "0"],
        ["--interval", "0"],
        ["--duration", "0"],
        ["--settle", "-1"],
        ["--error-share", "1.5"],
    ],
)
def test_bad_options_are_refused_before_anything_starts(
    bad: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*bad, "--out", str(tmp_path)])
    assert exited.value.code == 2
    assert bad[0] in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no stack started, no report written
