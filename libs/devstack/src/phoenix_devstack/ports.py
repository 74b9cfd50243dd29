"""Loopback port selection."""

from __future__ import annotations

import socket
from contextlib import ExitStack

LOOPBACK = "127.0.0.1"

# Well-known ports of system services that may already run on a developer machine; the dev
# stack must never collide with (or be mistaken for) them.
RESERVED_PORTS = frozenset({4222, 5432, 6379, 6222, 8222})


def free_port() -> int:
    """Return a currently unused TCP port on 127.0.0.1 (never one of RESERVED_PORTS)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Return `count` distinct free ports.

    All probe sockets stay bound until every port is chosen, so the kernel cannot hand the same
    ephemeral port out twice within one call.
    """
    ports: list[int] = []
    with ExitStack() as stack:
        while len(ports) < count:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
            if port not in RESERVED_PORTS:
                ports.append(port)
    return ports


def port_is_free(port: int) -> bool:
    """True when nothing listens on (or has bound) 127.0.0.1:port right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def validate_fixed_port(service: str, port: int) -> None:
    if not 0 < port < 65536:
        raise ValueError(f"{service}: port {port} is out of range")
    if port in RESERVED_PORTS:
        raise ValueError(
            f"{service}: port {port} is reserved for system services; pick another or omit it"
        )
