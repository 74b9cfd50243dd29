"""Local benchmark targets on loopback: nginx when installed, else phoenix_bench.server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

NGINX_CONF = """
worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log crit;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    keepalive_timeout 0;  # one request per connection, like the checks
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type text/plain;
    server {{
        listen 127.0.0.1:{http} backlog=4096;
        location / {{ return 200 "ok\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{https} ssl backlog=4096;
        ssl_certificate {chain};
        ssl_certificate_key {key};
        # Full handshakes every time: no resumption flatters nobody.
        ssl_session_cache off;
        ssl_session_tickets off;
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


@dataclass(frozen=True)
class Targets:
    kind: str  # "nginx" or "builtin"
    http_port: int
    https_port: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"target exited early with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def _pin(cpus: set[int]) -> None:
    os.sched_setaffinity(0, cpus)


@contextmanager
def start_targets(
    tmp: Path, chain: Path, key: str | Path, server_cpus: set[int], force_builtin: bool = False
) -> Iterator[Targets]:
    http, https = free_port(), free_port()
    nginx = None if force_builtin else shutil.which("nginx")
    if nginx:
        conf = tmp / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                workers=len(server_cpus), tmp=tmp, http=http, https=https, chain=chain, key=key
            )
        )
        command = [nginx, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf)]
        kind = "nginx"
    else:
        command = [
            sys.executable,
            "-m",
            "phoenix_bench.server",
            str(http),
            str(https),
            str(chain),
            str(key),
        ]
        kind = "builtin"
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: _pin(server_cpus),  # the server never shares the client's core
    )
    try:
        _wait_listening(http, process)
        _wait_listening(https, process)
        yield Targets(kind, http, https)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
