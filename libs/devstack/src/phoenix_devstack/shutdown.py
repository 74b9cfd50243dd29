"""Stopping server processes, including leftovers of a crashed run."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import psutil


def terminate(proc: subprocess.Popen[bytes], sig: signal.Signals, timeout: float) -> None:
    """Ask politely with `sig`, SIGKILL the whole family after `timeout`."""
    if proc.poll() is not None:
        return
    family = _descendants(proc.pid)
    with suppress(ProcessLookupError):
        os.kill(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _kill(family)
        with suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
    # Children that outlived their parent (e.g. a valkey fork mid-save) must not linger.
    _kill(_wait_exit(family, timeout=2))


def stop_processes_in(
    workdir: Path, names: frozenset[str], sig: signal.Signals, timeout: float
) -> list[int]:
    """Stop leftovers of a crashed run: our server binaries whose cwd is `workdir`.

    Servers run with their data dir as cwd, which identifies them even when the pid file lies
    (pid reuse) and catches PostgreSQL backends that outlived a killed postmaster.
    """
    target = os.path.realpath(workdir)
    victims = [
        p
        for p in psutil.process_iter(["cwd", "name"])
        if p.info["cwd"] == target and p.info["name"] in names and p.pid != os.getpid()
    ]
    for victim in victims:
        with suppress(psutil.Error):
            victim.send_signal(sig)
    leftovers = _wait_exit(victims, timeout)
    _kill(leftovers)
    _wait_exit(leftovers, timeout=2)
    return [int(p.pid) for p in victims]


def _wait_exit(processes: list[Any], timeout: float) -> list[Any]:
    """Processes still alive after `timeout`.

    Unlike psutil.wait_procs this counts zombies as gone: leftovers of a crashed run belong to
    init now, which may take its time reaping them, yet they hold no port or file any more.
    """
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in processes if _is_alive(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)


def _is_alive(process: Any) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _descendants(pid: int) -> list[Any]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


def _kill(processes: list[Any]) -> None:
    for process in processes:
        with suppress(psutil.Error):
            process.kill()
