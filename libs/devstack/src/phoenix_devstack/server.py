"""Lifecycle shared by the three servers: prepare, spawn, wait until ready, stop."""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from . import logs
from .errors import ServiceStartError
from .ports import free_port, port_is_free
from .process import ExitedEarlyError, Launch, spawn, wait_until_ready
from .shutdown import stop_processes_in, terminate
from .users import RunAs

_log = logging.getLogger(__name__)
# A port chosen by free_port() can be taken by someone else before the server binds it.
_PORT_ATTEMPTS = 3


class ManagedServer(ABC):
    name: ClassVar[str]
    binary_names: ClassVar[frozenset[str]]  # process names, to recognise our own leftovers
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    stop_timeout: ClassVar[float] = 10.0

    def __init__(self, data_dir: Path, port: int | None) -> None:
        self.data_dir = data_dir
        self._fixed_port = port
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        return self.data_dir / "run" / f"{self.name}.pid"

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    @abstractmethod
    def workdir(self) -> Path:
        """The server's cwd and data dir; valid after _prepare()."""

    @property
    @abstractmethod
    def url(self) -> str: ...

    @abstractmethod
    def _prepare(self, deadline: float) -> None:
        """One-time work before the first spawn (directories, initdb)."""

    @abstractmethod
    def _argv(self, port: int) -> list[str]: ...

    @abstractmethod
    def _is_ready(self) -> bool: ...

    def _after_ready(self, deadline: float) -> None:
        """Work that needs the running server (creating a database)."""
        return

    def _run_as(self) -> RunAs | None:
        return None

    def _crashed_last_time(self) -> bool:
        # The pid file is removed after every orderly stop, so its presence means a crash.
        return self.pid_path.exists()

    def _clear_crash_leftovers(self) -> None:
        stopped = stop_processes_in(
            self.workdir, self.binary_names, self.stop_signal, self.stop_timeout
        )
        if stopped:
            _log.warning("%s: stopped leftover processes %s of a crashed run", self.name, stopped)

    def start(self, deadline: float) -> None:
        logs.mark(self.log_path, f"starting {self.name}")
        try:
            self._prepare(deadline)
            if self._crashed_last_time():
                self._clear_crash_leftovers()
            self._spawn_until_ready(deadline)
            self._after_ready(deadline)
        except TimeoutError as exc:
            self.stop()
            raise self._failure(str(exc)) from None

    def _spawn_until_ready(self, deadline: float) -> None:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.port = self._choose_port()
            try:
                self._launch_and_wait(deadline)
                return
            except ExitedEarlyError as exc:
                if not self._should_retry(attempt):
                    raise self._failure(str(exc)) from None
                _log.info("%s: port %d was taken, retrying", self.name, self.port)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            terminate(proc, self.stop_signal, self.stop_timeout)
        self.pid_path.unlink(missing_ok=True)

    def _choose_port(self) -> int:
        if self._fixed_port is None:
            return free_port()
        if not port_is_free(self._fixed_port):
            raise self._failure(f"requested port 127.0.0.1:{self._fixed_port} is already in use")
        return self._fixed_port

    def _launch_and_wait(self, deadline: float) -> None:
        self._proc = spawn(
            Launch(
                argv=self._argv(self.port),
                log_path=self.log_path,
                cwd=self.workdir,
                death_signal=self.stop_signal,
                run_as=self._run_as(),
            )
        )
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path.write_text(f"{self._proc.pid}\n")
        started = time.monotonic()
        wait_until_ready(self._proc, self._is_ready, deadline)
        _log.debug("%s ready on port %d in %.2fs", self.name, self.port, time.monotonic() - started)

    def _should_retry(self, attempt: int) -> bool:
        self.stop()
        in_use = "address already in use" in logs.tail(self.log_path).lower()
        return self._fixed_port is None and in_use and attempt < _PORT_ATTEMPTS

    def _failure(self, reason: str) -> ServiceStartError:
        return ServiceStartError(self.name, reason, self.log_path, logs.tail(self.log_path))
