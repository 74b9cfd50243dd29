"""A container health check that needs neither curl nor a shell.

``python -m phoenix_platform.probe PHOENIX_HEALTH_PORT 8084`` asks
``http://127.0.0.1:<port>/healthz`` and exits 0 on a 200 answer, 1 otherwise
(Docker's and Compose's ``HEALTHCHECK`` contract). The port is the value of the
named variable when it is set, so a container started with another
``PHOENIX_HEALTH_PORT`` (or ``PHOENIX_GATEWAY_PORT``) is still probed where it
listens; the second argument is the service's default. Standard library only:
it starts in a few milliseconds and imports nothing of the service.
"""

from __future__ import annotations

import http.client
import os
import sys
from collections.abc import Mapping, Sequence

USAGE = "usage: python -m phoenix_platform.probe PORT_VARIABLE DEFAULT_PORT [PATH]"


def port_of(variable: str, default: str, environ: Mapping[str, str]) -> int:
    """The port to probe: the variable's value when set and not empty, else the default."""
    raw = environ.get(variable) or default
    port = int(raw)
    if not 0 < port < 65536:
        raise ValueError(f"{variable}: port {port} out of range")
    return port


def probe(port: int, path: str = "/healthz", timeout: float = 3.0) -> bool:
    """True when ``GET path`` on this host's ``port`` answers 200 within ``timeout``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        port = port_of(args[0], args[1], os.environ if environ is None else environ)
    except ValueError as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return 2
    return 0 if probe(port, args[2] if len(args) == 3 else "/healthz") else 1


if __name__ == "__main__":
    raise SystemExit(main())
