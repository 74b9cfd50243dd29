"""The benchmark's target farm: real sockets, a real subprocess, faults on a real clock."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import subprocess
import sys
import textwrap
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from phoenix_bench.farm import Farm, Shares, fault_of, period_index, start_farm, target_url
from phoenix_bench.record import Fault


def get(url: str, ca: Path, timeout: float = 5.0) -> int:
    """The status of one GET, on a new connection, verifying the farm's certificate."""
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=str(ca))
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("GET", parts.path, headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    with start_farm(tmp_path_factory.mktemp("farm"), error_share=0, hang_share=0) as running:
        yield running


def test_target_urls_alternate_http_and_https_over_the_ports() -> None:
    ports = [1000, 1001, 1002, 1003]
    assert target_url(0, ports) == "http://127.0.0.1:1000/t/0"
    assert target_url(1, ports) == "https://127.0.0.1:1001/t/1"
    assert target_url(6, ports) == "http://127.0.0.1:1002/t/6"
    assert target_url(7, ports) == "https://127.0.0.1:1003/t/7"


def test_every_target_answers_200_on_64_ports_half_https(farm: Farm) -> None:
    farm.reset()
    ports = farm.info.ports
    assert len(ports) == len(set(ports)) == 64
    urls = [farm.info.url(n) for n in range(128)]
    assert sum(url.startswith("https://") for url in urls) == 64
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda url: get(url, farm.info.ca), urls))
    assert statuses == [200] * 128
    hits, faults = farm.stats()
    assert hits == dict.fromkeys(range(128), 1)
    assert faults == []


def test_hits_are_counted_exactly_and_wrong_ports_are_not_hits(farm: Farm) -> None:
    farm.reset()
    for _ in range(3):
        assert get(farm.info.url(5), farm.info.ca) == 200
    for _ in range(2):
        assert get(farm.info.url(70), farm.info.ca) == 200
    wrong = f"http://127.0.0.1:{farm.info.ports[0]}/t/1"  # target 1 lives on port index 1
    assert get(wrong, farm.info.ca) == 404
    assert get(f"http://127.0.0.1:{farm.info.ports[0]}/", farm.info.ca) == 404
    hits, _ = farm.stats()
    assert hits == {5: 3, 70: 2}
    assert farm.requests() == (7, 2)


def test_every_https_check_pays_a_full_handshake(farm: Farm) -> None:
    port = farm.info.ports[1]
    context = ssl.create_default_context(cafile=str(farm.info.ca))
    session = None
    for _ in range(3):
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls,
        ):
            tls.sendall(b"GET /t/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert tls.recv(100).startswith(b"HTTP/1.1 200")
            assert tls.version() == "TLSv1.3"
            assert not tls.session_reused
            session = tls.session
    old = ssl.create_default_context(cafile=str(farm.info.ca))
    old.maximum_version = ssl.TLSVersion.TLSv1_2  # would resume by session id: refused
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        pytest.raises(ssl.SSLError),
    ):
        old.wrap_socket(raw, server_hostname="127.0.0.1")


def test_fault_of_is_deterministic_and_close_to_the_shares() -> None:
    shares = Shares(error=0.01, hang=0.005)
    draws = [fault_of(target, 7, seed=3, shares=shares) for target in range(100_000)]
    assert draws == [fault_of(target, 7, seed=3, shares=shares) for target in range(100_000)]
    assert 850 <= draws.count("error") <= 1150  # 1,000 expected, sd ~31
    assert 400 <= draws.count("hang") <= 600  # 500 expected, sd ~22
    other_period = [fault_of(target, 8, seed=3, shares=shares) for target in range(100_000)]
    other_seed = [fault_of(target, 7, seed=4, shares=shares) for target in range(100_000)]
    assert other_period != draws
    assert other_seed != draws
    assert period_index(119.9, 60) == 1
    assert period_index(120.0, 60) == 2


def test_errors_and_hangs_follow_the_schedule(tmp_path: Path) -> None:
    period, hang = 2.0, 1.0
    shares = Shares(error=0.2, hang=0.2)
    with start_farm(
        tmp_path, ports=4, period=period, hang_seconds=hang, seed=11,
        error_share=shares.error, hang_share=shares.hang,
    ) as farm:  # fmt: skip
        ca = farm.info.ca
        time.sleep(period - time.time() % period + 0.05)  # just into a new period
        index = period_index(time.time(), period)
        start = index * period
        kinds = {n: fault_of(n, index, 11, shares) for n in range(200)}
        error, held, late, fine = (
            [n for n, kind in kinds.items() if kind == "error"][:1]
            + [n for n, kind in kinds.items() if kind == "hang"][:2]
            + [n for n, kind in kinds.items() if kind is None][:1]
        )

        assert get(farm.info.url(error), ca) == 500
        assert get(farm.info.url(fine), ca) == 200
        asked = time.time()
        assert get(farm.info.url(held), ca) == 200
        answered = time.time()
        assert answered >= start + hang - 0.01  # held until the hang window closed
        assert answered - asked < hang + 0.5
        assert time.time() < start + period - 0.3  # the checks below are still in the period
        assert get(farm.info.url(late), ca) == 200  # after the window: no hang, no fault
        assert get(farm.info.url(held), ca) == 200
        assert get(farm.info.url(error), ca) == 500

        hits, faults = farm.stats()
        assert hits == {error: 2, fine: 1, held: 2, late: 1}
        assert faults == [
            Fault(target, kind, start, end)
            for target, kind, end in sorted(
                [(error, "error", start + period), (held, "hang", start + hang)]
            )
        ]


def test_workers_share_the_ports_and_their_counts_add_up(tmp_path: Path) -> None:
    with start_farm(tmp_path, ports=4, workers=2, error_share=0, hang_share=0) as farm:
        targets = [n % 8 for n in range(80)]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda n: get(farm.info.url(n), farm.info.ca), targets))
        assert statuses == [200] * 80
        hits, faults = farm.stats()
        assert hits == dict.fromkeys(range(8), 10)
        assert faults == []
        farm.reset()
        assert farm.stats() == ({}, [])


ENGINE_CHECK = textwrap.dedent(
    """
    import asyncio, sys
    from phoenix_executor.engine import Engine
    from phoenix_platform.netguard import NetGuard, parse_networks

    async def main() -> None:
        engine = Engine(guard=NetGuard(parse_networks("127.0.0.0/8")))  # default TLS context
        try:
            print((await engine.request("GET", sys.argv[1])).status_code)
        except Exception as exc:
            print(type(exc).__name__)

    asyncio.run(main())
    """
)


def test_the_executor_engine_trusts_the_farm_through_ssl_cert_file(farm: Farm) -> None:
    url = farm.info.url(1)
    assert url.startswith("https://")
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}

    def engine_says(extra: dict[str, str]) -> str:
        command = [sys.executable, "-c", ENGINE_CHECK, url]
        done = subprocess.run(
            command, env={**env, **extra}, capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout.strip()

    assert engine_says({"SSL_CERT_FILE": str(farm.info.ca)}) == "200"
    assert engine_says({}) != "200"  # without it, the farm's CA is unknown
