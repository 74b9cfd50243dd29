"""EmbeddedStack: NATS, PostgreSQL and Valkey as real local servers for dev and tests."""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .datadir import DataDirLock
from .nats import NatsServer
from .ports import validate_fixed_port
from .postgres import PostgresServer
from .server import ManagedServer
from .valkey import ValkeyServer

_log = logging.getLogger(__name__)

SERVICES = ("nats", "postgres", "redis")


@dataclass(frozen=True)
class Endpoints:
    nats_url: str  # nats://127.0.0.1:PORT
    database_url: str  # postgresql://phoenix@127.0.0.1:PORT/<dbname>
    redis_url: str  # redis://127.0.0.1:PORT/0


class EmbeddedStack:
    def __init__(
        self,
        data_dir: Path,
        *,
        database: str = "phoenix",
        ports: dict[str, int] | None = None,
        services: Collection[str] = SERVICES,
    ) -> None:
        unknown = (set(services) | set(ports or {})) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown service(s) {sorted(unknown)}; known: {list(SERVICES)}")
        for name, port in (ports or {}).items():
            validate_fixed_port(name, port)
        if not database:
            raise ValueError("database name must not be empty")
        self.data_dir = Path(data_dir).absolute()
        self.database = database
        self._ports = dict(ports or {})
        self._services = [name for name in SERVICES if name in set(services)]
        self._servers: dict[str, ManagedServer] = {}
        self._lock = DataDirLock(self.data_dir)
        self._guard = threading.Lock()
        self._endpoints: Endpoints | None = None

    @property
    def processes(self) -> dict[str, int]:
        pids = {name: server.pid for name, server in self._servers.items()}
        return {name: pid for name, pid in pids.items() if pid is not None}

    def start(self, timeout: float = 30.0) -> Endpoints:
        """Start the services in parallel; return once every one accepts connections."""
        with self._guard:
            if self._endpoints is None:
                self._endpoints = self._start(time.monotonic() + timeout)
            return self._endpoints

    def stop(self) -> None:
        with self._guard:
            self._stop_servers()

    def __enter__(self) -> Endpoints:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _start(self, deadline: float) -> Endpoints:
        began = time.monotonic()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        _LIVE_STACKS.add(self)
        try:
            self._servers = {name: self._make_server(name) for name in self._services}
            with ThreadPoolExecutor(len(self._servers) or 1, "devstack-start") as pool:
                futures = [pool.submit(s.start, deadline) for s in self._servers.values()]
                for future in futures:
                    future.result()
        except BaseException:
            # Includes KeyboardInterrupt mid-start: whatever did come up must not linger.
            self._stop_servers()
            raise
        _log.info("dev stack up in %.2fs: %s", time.monotonic() - began, self.processes)
        return Endpoints(
            nats_url=self._url("nats"),
            database_url=self._url("postgres"),
            redis_url=self._url("redis"),
        )

    def _make_server(self, name: str) -> ManagedServer:
        port = self._ports.get(name)
        if name == "nats":
            return NatsServer(self.data_dir, port)
        if name == "postgres":
            return PostgresServer(self.data_dir, port, self.database)
        return ValkeyServer(self.data_dir, port)

    def _url(self, name: str) -> str:
        server = self._servers.get(name)
        return server.url if server is not None else ""

    def _stop_servers(self) -> None:
        servers = list(self._servers.values())
        if servers:
            with ThreadPoolExecutor(len(servers), "devstack-stop") as pool:
                for future in [pool.submit(server.stop) for server in servers]:
                    future.result()
        self._servers = {}
        self._endpoints = None
        self._lock.release()
        _LIVE_STACKS.discard(self)


# Stacks still running at interpreter exit are stopped in order here; PR_SET_PDEATHSIG only
# covers the abrupt cases (SIGKILL, os._exit) where no Python code runs.
_LIVE_STACKS: weakref.WeakSet[EmbeddedStack] = weakref.WeakSet()


@atexit.register
def _stop_live_stacks() -> None:
    for stack in list(_LIVE_STACKS):
        stack.stop()
