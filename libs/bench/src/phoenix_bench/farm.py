"""The target farm the whole-stack benchmark's monitors check, with injected faults.

``python -m phoenix_bench.farm --ports 64 --chain CHAIN --key KEY [--period 60]
[--error-share 0.01] [--hang-share 0.005] [--hang-seconds 15] [--seed N]
[--control-port P] [--workers K]`` listens on ``--ports`` loopback ports, even port
indexes plain HTTP, odd ones HTTPS (ECDSA P-256 from :mod:`phoenix_bench.certs`, TLS 1.3
without session tickets: every check pays a full handshake). Target ``n`` is
``/t/<n>`` on port index ``n % ports`` (:func:`target_url`). Each answer closes its
connection, like the checks, which open one connection per check.

Always this built-in asyncio server, never nginx: faults are per target and per period,
which nginx cannot do without scripting. nginx stays the ceiling the executor is compared
against in :mod:`phoenix_bench.executor`.

Faults: time is cut into periods of ``period`` seconds aligned to the epoch; in each one a
pseudo-random ``error_share`` of targets answer 500 for the whole period and a
``hang_share`` hang: a request arriving in the first ``hang_seconds`` of the period gets no
answer until ``hang_seconds`` after the period began (then 200); later ones get 200.
Which targets is :func:`fault_of`, a pure function of (seed, period, target), so the
analysis can replay it. The farm records the faults it actually served as
:class:`phoenix_bench.record.Fault`: an error for every requested error target (the whole
period), a hang only when a request arrived inside the hang window.

Requests are counted per target, every one, answered or not: the counts are how the
benchmark detects duplicate checks, so they are exact (they are taken when a request's
head arrives, before any answer). ``GET /stats`` on the loopback control port answers
``{"hits": {"<n>": count}, "faults": [...], "requests": total, "other": count}``;
``POST /reset`` clears them. With ``--workers K`` the ports are shared by K processes
(SO_REUSEPORT) and the control process sums what each worker reports over a pipe.

The parent side is :func:`start_farm`: it writes the certificates, starts the farm in a
subprocess (optionally pinned to CPUs away from the stack), waits until every port listens
and gives back a :class:`Farm` with ``.info`` (ports, CA path), ``.stats()`` and ``.stop()``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import http.client
import json
import math
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

import msgspec

from phoenix_bench.certs import write_certificates
from phoenix_bench.record import Fault

FaultKind = Literal["error", "hang"]

_HEAD_END = b"\r\n\r\n"
_MAX_HEAD = 16_384


def _response(status: str, body: bytes, head_only: bool) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nContent-Type: text/plain\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return head if head_only else head + body


_OK = _response("200 OK", b"ok\n", False)
_OK_HEAD = _response("200 OK", b"ok\n", True)
_ERROR = _response("500 Internal Server Error", b"injected fault\n", False)
_ERROR_HEAD = _response("500 Internal Server Error", b"injected fault\n", True)
_NOT_FOUND = _response("404 Not Found", b"no such target\n", False)
_BAD = _response("400 Bad Request", b"bad request\n", False)


# --- the fault schedule: pure, so the analysis can replay it ---------------------------


@dataclass(frozen=True)
class Shares:
    """The share of targets that answer 500 (``error``) and that hang, per period."""

    error: float = 0.01
    hang: float = 0.005

    def __post_init__(self) -> None:
        if self.error < 0 or self.hang < 0 or self.error + self.hang > 1:
            raise ValueError(f"shares must be >= 0 and sum to <= 1, not {self}")


def period_index(at: float, period: float) -> int:
    """The period ``at`` (seconds since the epoch) falls in; periods start at multiples."""
    return math.floor(at / period)


def fault_of(target: int, period_index: int, seed: int, shares: Shares) -> FaultKind | None:
    """``"error"``, ``"hang"`` or ``None`` for ``target`` during period ``period_index``.

    One uniform draw per (seed, period, target) from BLAKE2b: below ``shares.error`` is an
    error, the next ``shares.hang`` a hang. Independent across periods: a target may fail
    two periods in a row (with probability ``share**2``).
    """
    digest = hashlib.blake2b(
        f"{seed}:{period_index}:{target}".encode(), digest_size=8, person=b"phoenix-farm"
    ).digest()
    draw = int.from_bytes(digest, "big") / 2**64
    if draw < shares.error:
        return "error"
    if draw < shares.error + shares.hang:
        return "hang"
    return None


def scheme_of(index: int) -> str:
    """Even port indexes serve HTTP, odd ones HTTPS: half and half, interleaved."""
    return "http" if index % 2 == 0 else "https"


def target_url(n: int, ports: Sequence[int]) -> str:
    """The URL of target ``n`` on a farm listening on ``ports`` (in port-index order)."""
    index = n % len(ports)
    return f"{scheme_of(index)}://127.0.0.1:{ports[index]}/t/{n}"


# --- the server (farm process) ---------------------------------------------------------


@dataclass(frozen=True)
class Config:
    ports: int = 64
    period: float = 60.0
    shares: Shares = field(default_factory=Shares)
    hang_seconds: float = 15.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.ports < 2 or self.ports % 2:
            raise ValueError("ports must be even and at least 2 (half HTTP, half HTTPS)")
        if not 0 < self.hang_seconds <= self.period:
            raise ValueError("hang_seconds must be in (0, period]")


class Counter:
    """Hits per target and the faults served, in one process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.hits: dict[int, int] = {}
        # When each request arrived: a check's request falls inside its result's
        # [started, finished], so requests outside every result were extra executions.
        self.times: dict[int, list[float]] = {}
        self.requests = 0
        self.other = 0  # requests for no target, or for a target on the wrong port
        # (target, kind, period index): the faults served, each once.
        self.faults: set[tuple[int, str, int]] = set()
        self._period = -1
        self._kinds: dict[int, FaultKind | None] = {}

    def reset(self) -> None:
        self.hits.clear()
        self.times.clear()
        self.faults.clear()
        self.requests = self.other = 0

    def fault_now(self, target: int, now: float) -> tuple[FaultKind | None, float]:
        """The fault of ``target`` at ``now`` and the start of the period ``now`` is in."""
        config = self.config
        index = period_index(now, config.period)
        if index != self._period:
            self._period, self._kinds = index, {}
        if target in self._kinds:
            kind = self._kinds[target]
        else:
            kind = self._kinds[target] = fault_of(target, index, config.seed, config.shares)
        return kind, index * config.period

    def snapshot(self) -> dict[str, Any]:
        period, hang = self.config.period, self.config.hang_seconds
        faults = [
            {
                "target": target,
                "kind": kind,
                "start": index * period,
                "end": index * period + (period if kind == "error" else hang),
            }
            for target, kind, index in sorted(self.faults)
        ]
        return {
            "hits": self.hits,
            "times": self.times,
            "faults": faults,
            "requests": self.requests,
            "other": self.other,
        }


class _Target(asyncio.Protocol):
    """One connection: read the request head, count it, answer (or hold), close."""

    def __init__(self, counter: Counter, index: int, ports: int) -> None:
        self._counter, self._index, self._ports = counter, index, ports
        self._buf = b""
        self._transport: asyncio.Transport | None = None
        self._held: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._held is not None:
            self._held.cancel()  # the client gave up on a hang: nothing left to answer

    def data_received(self, data: bytes) -> None:
        if self._transport is None or self._held is not None:
            return  # answered, or holding a hang: ignore anything more
        self._buf += data
        end = self._buf.find(_HEAD_END)
        if end < 0:
            if len(self._buf) > _MAX_HEAD:
                self._answer(_BAD)
            return
        self._answer_request(self._buf[:end])

    def _answer_request(self, head: bytes) -> None:
        counter = self._counter
        counter.requests += 1
        line = head.split(b"\r\n", 1)[0].split(b" ")
        target = _target_of(line[1]) if len(line) == 3 else None
        if target is None or target % self._ports != self._index:
            counter.other += 1
            self._answer(_NOT_FOUND)
            return
        counter.hits[target] = counter.hits.get(target, 0) + 1
        counter.times.setdefault(target, []).append(time.time())
        head_only = line[0] == b"HEAD"
        now = time.time()
        kind, start = counter.fault_now(target, now)
        if kind == "error":
            counter.faults.add((target, "error", period_index(now, counter.config.period)))
            self._answer(_ERROR_HEAD if head_only else _ERROR)
            return
        if kind == "hang":
            release = start + counter.config.hang_seconds
            if now < release:
                counter.faults.add((target, "hang", period_index(now, counter.config.period)))
                answer = _OK_HEAD if head_only else _OK
                loop = asyncio.get_running_loop()
                self._held = loop.call_later(release - now, self._answer, answer)
                return
        self._answer(_OK_HEAD if head_only else _OK)

    def _answer(self, answer: bytes) -> None:
        transport, self._transport = self._transport, None
        if transport is not None and not transport.is_closing():
            transport.write(answer)
            transport.close()


def _target_of(path: bytes) -> int | None:
    if not path.startswith(b"/t/"):
        return None
    digits = path[3:].split(b"?", 1)[0]
    return int(digits) if digits.isdigit() else None


def _tls_context(chain: str, key: str) -> ssl.SSLContext:
    """No resumption, like nginx with ``ssl_session_tickets off``: full handshakes only.

    TLS 1.3 only: it resumes with tickets alone, and none are sent. TLS 1.2 would also
    resume by session id from the server's cache, which Python cannot turn off.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.options |= ssl.OP_NO_TICKET
    context.num_tickets = 0
    return context


def listening_sockets(ports: int, workers: int) -> list[list[socket.socket]]:
    """``workers`` sets of ``ports`` listening sockets; set k for worker k, same port numbers."""
    sets: list[list[socket.socket]] = [[] for _ in range(workers)]
    for _ in range(ports):
        port = 0
        for k in range(workers):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if workers > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("127.0.0.1", port))
            port = sock.getsockname()[1]
            sock.listen(4096)
            sock.setblocking(False)
            sets[k].append(sock)
    return sets


async def serve_targets(
    counter: Counter, sockets: list[socket.socket], context: ssl.SSLContext
) -> list[asyncio.Server]:
    loop = asyncio.get_running_loop()
    ports = len(sockets)
    servers = []
    for index, sock in enumerate(sockets):

        def protocol(index: int = index) -> _Target:
            return _Target(counter, index, ports)

        tls = context if scheme_of(index) == "https" else None
        servers.append(await loop.create_server(protocol, sock=sock, ssl=tls, backlog=4096))
    return servers


class _Control(asyncio.Protocol):
    """``GET /stats`` and ``POST /reset`` on the control port, one request per connection."""

    def __init__(self, handle: Callable[[bytes, bytes], asyncio.Future[bytes]]) -> None:
        self._handle = handle
        self._buf = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if _HEAD_END not in self._buf or self._transport is None:
            return
        line = self._buf.split(b"\r\n", 1)[0].split(b" ")
        transport, self._transport = self._transport, None
        future = self._handle(line[0], line[1] if len(line) > 1 else b"")
        future.add_done_callback(lambda done: _reply(transport, done))


def _reply(transport: asyncio.Transport, done: asyncio.Future[bytes]) -> None:
    if done.cancelled() or done.exception() is not None:
        body, status = f"{done.exception()!r}".encode(), "500 Internal Server Error"
    else:
        body, status = done.result(), "200 OK"
        if not body:
            body, status = b'{"error": "not found"}', "404 Not Found"
    transport.write(
        f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n"
        "Content-Type: application/json\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    transport.close()


def merge(snapshots: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Sum per-worker snapshots: hits add up, faults are a union (a fault once per period)."""
    hits: dict[int, int] = {}
    times: dict[int, list[float]] = {}
    faults: dict[tuple[int, str, float], dict[str, Any]] = {}
    requests = other = 0
    for snap in snapshots:
        for target, count in snap["hits"].items():
            hits[int(target)] = hits.get(int(target), 0) + count
        for target, seen in snap.get("times", {}).items():
            times.setdefault(int(target), []).extend(seen)
        for fault in snap["faults"]:
            faults[(fault["target"], fault["kind"], fault["start"])] = fault
        requests += snap["requests"]
        other += snap["other"]
    return {
        "hits": dict(sorted(hits.items())),
        "times": {target: sorted(seen) for target, seen in sorted(times.items())},
        "faults": [faults[key] for key in sorted(faults)],
        "requests": requests,
        "other": other,
    }


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _run_loop(main: Callable[[], Any]) -> None:
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:  # pragma: no cover
        asyncio.run(main())


def _worker(
    config: Config,
    sockets: list[socket.socket],
    chain: str,
    key: str,
    pipe: multiprocessing.connection.Connection,
) -> None:
    """A worker process: serve ``sockets``, answer ``stats``/``reset`` on ``pipe``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the control process stops workers

    async def main() -> None:
        counter = Counter(config)
        servers = await serve_targets(counter, sockets, _tls_context(chain, key))
        loop = asyncio.get_running_loop()
        stopped: asyncio.Future[None] = loop.create_future()

        def on_pipe() -> None:
            try:
                command = pipe.recv()
            except EOFError:  # the control process is gone
                _settle(stopped)
                return
            if command == "reset":
                counter.reset()
            pipe.send_bytes(msgspec.json.encode(counter.snapshot()))

        loop.add_reader(pipe.fileno(), on_pipe)
        loop.add_signal_handler(signal.SIGTERM, _settle, stopped)
        await stopped
        for server in servers:
            server.close()

    _run_loop(main)


async def run_farm(config: Config, chain: str, key: str, control_port: int, workers: int) -> None:
    loop = asyncio.get_running_loop()
    sets = listening_sockets(config.ports, workers)
    ports = [sock.getsockname()[1] for sock in sets[0]]
    processes: list[multiprocessing.process.BaseProcess] = []
    pipes: list[multiprocessing.connection.Connection] = []
    counter = Counter(config)
    if workers == 1:
        servers = await serve_targets(counter, sets[0], _tls_context(chain, key))
    else:
        servers = []
        fork = multiprocessing.get_context("fork")  # the sockets pass by inheritance
        for k in range(workers):
            mine, theirs = fork.Pipe()
            process = fork.Process(
                target=_worker, args=(config, sets[k], chain, key, theirs), daemon=True
            )
            process.start()
            theirs.close()
            pipes.append(mine)
            processes.append(process)
        for sock in (sock for socks in sets for sock in socks):
            sock.close()  # the workers hold them now
    lock = asyncio.Lock()

    async def ask_workers(command: str) -> bytes:
        async with lock:  # one exchange at a time on each pipe
            if workers == 1:
                if command == "reset":
                    counter.reset()
                return msgspec.json.encode(counter.snapshot())
            snapshots = await loop.run_in_executor(None, _ask_pipes, pipes, command)
            return msgspec.json.encode(merge(snapshots))

    def handle(method: bytes, path: bytes) -> asyncio.Future[bytes]:
        if method == b"GET" and path == b"/stats":
            return asyncio.ensure_future(ask_workers("stats"))
        if method == b"POST" and path == b"/reset":
            return asyncio.ensure_future(ask_workers("reset"))
        future: asyncio.Future[bytes] = loop.create_future()
        future.set_result(b"")
        return future

    control = await loop.create_server(lambda: _Control(handle), "127.0.0.1", control_port)
    info = {"ports": ports, "control_port": control.sockets[0].getsockname()[1], "pid": os.getpid()}
    print(json.dumps(info), flush=True)  # the parent waits for this line: all ports listen
    stopped: asyncio.Future[None] = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _settle, stopped)
    await stopped
    control.close()
    for server in servers:
        server.close()
    for child in processes:
        child.terminate()
    for child in processes:
        child.join(5)


def _ask_pipes(
    pipes: Sequence[multiprocessing.connection.Connection], command: str
) -> list[dict[str, Any]]:
    for pipe in pipes:
        pipe.send(command)
    return [msgspec.json.decode(pipe.recv_bytes()) for pipe in pipes]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The benchmark's target farm")
    parser.add_argument("--ports", type=int, default=64)
    parser.add_argument("--chain", required=True, help="leaf + CA PEM (phoenix_bench.certs)")
    parser.add_argument("--key", required=True)
    parser.add_argument("--period", type=float, default=60.0)
    parser.add_argument("--error-share", type=float, default=0.01)
    parser.add_argument("--hang-share", type=float, default=0.005)
    parser.add_argument("--hang-seconds", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--control-port", type=int, default=0, help="0: any free port")
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the ports")
    args = parser.parse_args(argv)
    try:
        config = Config(
            ports=args.ports,
            period=args.period,
            shares=Shares(args.error_share, args.hang_share),
            hang_seconds=args.hang_seconds,
            seed=args.seed,
        )
    except ValueError as exc:
        parser.error(str(exc))
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    _run_loop(lambda: run_farm(config, args.chain, args.key, args.control_port, args.workers))


# --- the parent side -------------------------------------------------------------------


@dataclass(frozen=True)
class FarmInfo:
    ports: list[int]  # in port-index order: target n is on ports[n % len(ports)]
    control_port: int
    ca: Path  # trust this (SSL_CERT_FILE=<ca> for the executor) to verify the HTTPS ports
    config: Config

    def url(self, n: int) -> str:
        return target_url(n, self.ports)


class Farm:
    """A running farm subprocess; ``stop()`` (or leaving the ``with`` block) ends it."""

    def __init__(self, process: subprocess.Popen[bytes], info: FarmInfo) -> None:
        self.process, self.info = process, info

    def _call(self, method: str, path: str) -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", self.info.control_port, timeout=30)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"farm {method} {path}: {response.status} {body!r}")
        return body

    def stats(self) -> tuple[dict[int, int], list[Fault]]:
        """Requests per target and the faults served so far (since start or ``reset()``)."""
        stats = msgspec.json.decode(self._call("GET", "/stats"), type=_Stats)
        return stats.hits, stats.faults

    def hit_times(self) -> dict[int, list[float]]:
        """When each request for each target arrived (epoch seconds), oldest first."""
        return msgspec.json.decode(self._call("GET", "/stats"), type=_Stats).times

    def requests(self) -> tuple[int, int]:
        """``(all requests, requests for no target or on the wrong port)``."""
        stats = msgspec.json.decode(self._call("GET", "/stats"), type=_Stats)
        return stats.requests, stats.other

    def reset(self) -> None:
        self._call("POST", "/reset")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Farm:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _Stats(msgspec.Struct):
    hits: dict[int, int]
    times: dict[int, list[float]]
    faults: list[Fault]
    requests: int
    other: int


def start_farm(
    directory: Path,
    *,
    ports: int = 64,
    period: float = 60.0,
    error_share: float = 0.01,
    hang_share: float = 0.005,
    hang_seconds: float = 15.0,
    seed: int = 0,
    workers: int = 1,
    cpus: set[int] | None = None,
    timeout: float = 20.0,
) -> Farm:
    """Write certificates into ``directory``, start the farm and wait until it listens.

    ``cpus``: pin the farm (and its workers) there, so its CPU is not the stack's.
    """
    config = Config(ports, period, Shares(error_share, hang_share), hang_seconds, seed)
    ca, chain, key = write_certificates(directory)
    command = [
        sys.executable,
        "-m",
        "phoenix_bench.farm",
        f"--ports={ports}",
        f"--chain={chain}",
        f"--key={key}",
        f"--period={period}",
        f"--error-share={error_share}",
        f"--hang-share={hang_share}",
        f"--hang-seconds={hang_seconds}",
        f"--seed={seed}",
        f"--workers={workers}",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    try:
        line = _ready_line(process, timeout)
        ready = json.loads(line)
        info = FarmInfo(ready["ports"], ready["control_port"], ca, config)
        farm = Farm(process, info)
        farm.requests()  # the control port answers: the farm's loop runs
    except BaseException:
        process.kill()
        process.wait()
        raise
    return farm


def _ready_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The farm's first stdout line, printed once every port listens."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError("the farm did not report its ports in time")
        readable, _, _ = select.select([process.stdout], [], [], left)
        if readable:
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"the farm exited early with code {process.wait()}")
            line += chunk
    return line


@contextlib.contextmanager
def farm(directory: Path, **options: Any) -> Iterator[Farm]:
    """``with farm(tmp) as f:``: :func:`start_farm`, stopped on the way out."""
    running = start_farm(directory, **options)
    try:
        yield running
    finally:
        running.stop()


if __name__ == "__main__":
    main()
