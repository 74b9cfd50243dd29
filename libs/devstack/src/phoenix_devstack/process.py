"""Spawn server processes so that none outlives the Python process that owns it."""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .logs import open_log
from .users import RunAs

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    # Resolved at import: the forked child should do as little as possible before exec.
    return prctl


_PRCTL = _load_prctl()


@dataclass(frozen=True)
class Launch:
    argv: Sequence[str]
    log_path: Path
    cwd: Path
    death_signal: signal.Signals = signal.SIGTERM
    run_as: RunAs | None = None
    env: Mapping[str, str] | None = None


class ExitedEarlyError(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(f"exited with code {returncode} before accepting connections")
        self.returncode = returncode


def child_env() -> dict[str, str]:
    """Our environment minus libpq settings, so a developer's PGHOST etc. cannot redirect tools."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _child_setup(parent_pid: int, death_signal: int) -> Callable[[], None]:
    prctl = _PRCTL

    def setup() -> None:
        # subprocess runs this after switching uid/gid: a credential change clears the
        # death signal, so it must be set here and not any earlier.
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(1)  # the parent died before the death signal was armed

    return setup


def _user_kwargs(run_as: RunAs | None) -> dict[str, Any]:
    if run_as is None:
        return {}
    return {"user": run_as.uid, "group": run_as.gid, "extra_groups": []}


def _popen(launch: Launch) -> subprocess.Popen[bytes]:
    with open_log(launch.log_path) as log:
        return subprocess.Popen(
            list(launch.argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=launch.cwd,
            env=dict(launch.env) if launch.env is not None else child_env(),
            # Own process group: a terminal Ctrl-C reaches only the parent, which then shuts
            # the servers down in order instead of having them die mid-request.
            process_group=0,
            preexec_fn=_child_setup(os.getpid(), launch.death_signal),
            **_user_kwargs(launch.run_as),
        )


class _Spawner:
    """Forks every long-lived server from one thread that lives as long as the process.

    Linux sends PR_SET_PDEATHSIG when the *thread* that forked the child exits, not the whole
    process. Spawning from start()'s worker threads (or an asyncio.to_thread pool thread) would
    kill the server as soon as that thread finished.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Launch, Future[subprocess.Popen[bytes]]]]
        self._jobs = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def spawn(self, launch: Launch) -> subprocess.Popen[bytes]:
        future: Future[subprocess.Popen[bytes]] = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="devstack-spawner", daemon=True
                )
                self._thread.start()
        self._jobs.put((launch, future))
        return future.result()

    def _serve(self) -> None:
        while True:
            launch, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(_popen(launch))
            except BaseException as exc:
                future.set_exception(exc)


_SPAWNER = _Spawner()


def spawn(launch: Launch) -> subprocess.Popen[bytes]:
    return _SPAWNER.spawn(launch)


def run_tool(launch: Launch, timeout: float, stdin: bytes | None = None) -> int:
    """Run a short-lived helper (initdb, psql) to completion, output appended to its log."""
    with open_log(launch.log_path) as log:
        try:
            result = subprocess.run(
                list(launch.argv),
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=launch.cwd,
                env=dict(launch.env) if launch.env is not None else child_env(),
                process_group=0,
                preexec_fn=_child_setup(os.getpid(), launch.death_signal),
                timeout=max(timeout, 0.1),
                check=False,
                **_user_kwargs(launch.run_as),
            )
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{Path(launch.argv[0]).name} did not finish in time") from None
    return result.returncode


def wait_until_ready(
    proc: subprocess.Popen[bytes], probe: Callable[[], bool], deadline: float
) -> None:
    """Poll `probe` until it succeeds; raise if the process dies or the deadline passes."""
    while True:
        if proc.poll() is not None:
            raise ExitedEarlyError(proc.returncode)
        if probe():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError("did not accept connections before the timeout")
        time.sleep(0.05)
