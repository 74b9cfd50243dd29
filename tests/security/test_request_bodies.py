"""No request body is read past ``PHOENIX_MAX_BODY_BYTES``, on any route, whatever the headers.

Every route of the running gateway (its OpenAPI document, plus the routes left
out of it and one that does not exist) gets an oversized body with and without
each optional header, declared with ``Content-Length`` or streamed chunked with
no length: every one is a 413, and the gateway's memory stays where it was.
The bodies are sent over a raw socket: the client stops sending as soon as the
answer arrives, as a real client would, and a server that read the whole body
would show it in its resident memory.
"""

from __future__ import annotations

import re
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import sign_up_and_log_in

pytestmark = pytest.mark.e2e

LIMIT = 1_048_576  # PHOENIX_MAX_BODY_BYTES's default, which the stack runs with
MIB = 1_048_576
# What "the gateway did not hold the body" allows for: allocator noise, caches.
RSS_SLACK = 16 * MIB
PIECE = b"x" * 65_536
# (name, chunked, a Content-Length sent beside the chunks): a declared length past
# the limit, a stream with no length, and a stream whose small length lies.
FRAMINGS = [("content-length", False, None), ("chunked", True, None), ("lying", True, 100)]
HIDDEN_ROUTES = [("GET", "/metrics"), ("GET", "/status/{slug}"), ("POST", "/status/{slug}")]


@dataclass(frozen=True)
class Caller:
    token: str
    organization_id: str

    def header_sets(self) -> dict[str, dict[str, str]]:
        """No optional header, each one alone, and all of them together."""
        each = {
            "idempotency-key": {"Idempotency-Key": "k-" + uuid.uuid4().hex},
            "organization": {"X-Phoenix-Organization": self.organization_id},
            "authorization": {"Authorization": f"Bearer {self.token}"},
            "cookie": {"Cookie": f"phoenix_session={self.token}"},
        }
        everything = {k: v for headers in each.values() for k, v in headers.items()}
        return {"none": {}, **each, "all": everything}


@pytest.fixture(scope="module")
def caller(stack: RunningStack) -> Caller:
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    auth = sign_up_and_log_in(client)
    token = auth["Authorization"].removeprefix("Bearer ")
    stack.secrets.append(token)
    me = client.get("/api/v1/account/me", headers=auth).json()
    return Caller(token, me["organization_id"])


def every_route(stack: RunningStack) -> list[tuple[str, str]]:
    """(method, path) of every route, path parameters filled with a made-up id."""
    schema = httpx.get(stack.base_url + "/schema/openapi.json", timeout=20).json()
    routes = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    routes += [*HIDDEN_ROUTES, ("POST", "/api/v1/no-such-route")]
    made_up = str(uuid.uuid4())
    return sorted({(method, re.sub(r"\{[^}]+\}", made_up, path)) for method, path in routes})


def gateway_process(stack: RunningStack) -> psutil.Process:
    for child in psutil.Process(stack.process.pid).children(recursive=True):
        cmdline = " ".join(child.cmdline())
        if "gateway" in cmdline and "phoenix_cli" in cmdline:
            return child
    raise AssertionError("no gateway process")


@contextmanager
def peak_rss_growth(process: psutil.Process) -> Iterator[list[int]]:
    """Samples the process's resident memory while the block runs; yields [growth]
    filled in at the end: the highest sample minus the memory before."""
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    growth: list[int] = []
    try:
        yield growth
    finally:
        done.set()
        sampler.join()
        growth.append(peak - before)


def send_oversized(
    base_url: str,
    method: str,
    path: str,
    headers: dict[str, str],
    size: int,
    *,
    chunked: bool,
    declared: int | None = None,
    timeout: float = 60,
) -> int:
    """Streams ``size`` bytes (or until the answer starts) and returns the status.
    ``declared``: a Content-Length sent beside the chunked encoding, a lie."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    if declared is not None:
        lines.append(f"Content-Length: {declared}")
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        frame = b"%x\r\n%s\r\n" % (len(PIECE), PIECE) if chunked else PIECE
        sent = 0
        try:
            while sent < size and not _answered(sock):
                assert time.monotonic() < deadline, f"{method} {path}: no answer in {timeout} s"
                sock.sendall(frame)
                sent += len(PIECE)
            if chunked and sent >= size:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server stopped reading; its answer may be waiting
        return _status(sock)


def _answered(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed without an answer: {head!r}")
        head += chunk
    return int(head.split(b" ", 2)[1])


def test_an_oversized_body_is_413_on_every_route_with_any_headers(
    stack: RunningStack, caller: Caller
) -> None:
    routes = every_route(stack)
    assert len(routes) > 50, routes  # the document really lists the API
    wrong = []
    with peak_rss_growth(gateway_process(stack)) as growth:
        for method, path in routes:
            for name, headers in caller.header_sets().items():
                for framing, chunked, declared in FRAMINGS:
                    status = send_oversized(
                        stack.base_url,
                        method,
                        path,
                        headers,
                        4 * LIMIT,
                        chunked=chunked,
                        declared=declared,
                    )
                    if status != 413:
                        wrong.append(f"{method} {path} [{name}, {framing}]: {status}")
    assert wrong == []
    assert growth[0] < RSS_SLACK, f"the gateway grew by {growth[0] / MIB:.0f} MiB"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_64_mib_login_with_an_idempotency_key_costs_no_memory(
    stack: RunningStack, chunked: bool
) -> None:
    headers = {"Idempotency-Key": "k-" + uuid.uuid4().hex}
    with peak_rss_growth(gateway_process(stack)) as growth:
        status = send_oversized(
            stack.base_url, "POST", "/api/v1/auth/login", headers, 64 * MIB, chunked=chunked
        )
    assert status == 413
    assert growth[0] < RSS_SLACK, f"the gateway grew by {growth[0] / MIB:.0f} MiB"


def test_a_body_below_the_limit_still_reaches_its_route(stack: RunningStack) -> None:
    """Chunked bodies within the limit are handed on whole, with any headers."""
    username = "u" + uuid.uuid4().hex[:10]
    body = b'{"username": "%s", "email": "%s@example.com", "password": "a long passphrase"}' % (
        username.encode(),
        username.encode(),
    )

    def chunks() -> Iterator[bytes]:
        yield body[:10]
        yield body[10:]

    signup = httpx.post(
        stack.base_url + "/api/v1/auth/signup",
        content=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=20,
    )
    assert signup.status_code == 201, signup.text
