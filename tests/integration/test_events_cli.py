"""``phoenix events`` against a real NATS server, run as a user runs it: a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from phoenix_contracts.monitors import MonitorCreated, MonitorPaused, MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.messaging.streams import provision, stream_configs

from tests.infra import Servers, delete_streams, new_namespace

pytestmark = pytest.mark.integration


def created(monitor_id: str, organization_id: str = "org-1") -> MonitorCreated:
    return MonitorCreated(
        event_id=uuid7(),
        aggregate_id=monitor_id,
        aggregate_version=1,
        occurred_at=datetime.now(UTC),
        organization_id=organization_id,
        spec=MonitorSpec(name=f"site {monitor_id}", type="http", url="https://example.com"),
    )


def paused(monitor_id: str) -> MonitorPaused:
    return MonitorPaused(
        event_id=uuid7(),
        aggregate_id=monitor_id,
        aggregate_version=2,
        occurred_at=datetime.now(UTC),
        organization_id="org-1",
    )


def phoenix(
    servers: Servers, namespace: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phoenix_cli", "events", *args],
        env={**os.environ, "PHOENIX_NATS_URL": servers.nats_url, "PHOENIX_NAMESPACE": namespace},
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
        check=False,
    )


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


async def fill(nc: Client, subjects: Subjects) -> list[str]:
    store = EventStore(nc.jetstream(), subjects)
    monitors = ["m1", "m2", "m3"]
    for monitor in monitors:
        await store.append([created(monitor, "org-2" if monitor == "m3" else "org-1")], 0)
    _, sequence = await store.load("monitor", "m1")
    await store.append([paused("m1")], sequence)
    return monitors


async def test_stats_show_and_filtered_exports(
    nc: Client, subjects: Subjects, servers: Servers, tmp_path: Path
) -> None:
    await fill(nc, subjects)
    ns = subjects.namespace
    stats = await asyncio.to_thread(phoenix, servers, ns, "stats")
    assert stats.returncode == 0, stats.stderr
    report = json.loads(stats.stdout)
    assert report["events"] == 4
    assert report["by_type"] == {"monitor.created": 3, "monitor.paused": 1}
    assert report["by_aggregate"] == {"monitor": 4}
    assert (report["first"]["sequence"], report["last"]["sequence"]) == (1, 4)

    shown = await asyncio.to_thread(phoenix, servers, ns, "show", "m1")
    assert [(e["type"], e["event"]["aggregate_version"]) for e in lines(shown.stdout)] == [
        ("monitor.created", 1),
        ("monitor.paused", 2),
    ]
    missing = await asyncio.to_thread(phoenix, servers, ns, "show", "nobody")
    assert missing.returncode == 1
    assert "no events" in missing.stderr

    paused_only = await asyncio.to_thread(
        phoenix, servers, ns, "export", "--type", "monitor.paused"
    )
    assert [e["event"]["aggregate_id"] for e in lines(paused_only.stdout)] == ["m1"]
    org2 = await asyncio.to_thread(phoenix, servers, ns, "export", "--organization", "org-2")
    assert [e["event"]["aggregate_id"] for e in lines(org2.stdout)] == ["m3"]
    middle = await asyncio.to_thread(
        phoenix, servers, ns, "export", "--from-sequence", "2", "--to-sequence", "3"
    )
    assert [e["sequence"] for e in lines(middle.stdout)] == [2, 3]
    future = await asyncio.to_thread(phoenix, servers, ns, "export", "--since", "2999-01-01")
    assert lines(future.stdout) == []
    assert "exported 0 events" in future.stderr


async def test_export_then_import_into_an_empty_log_gives_the_same_log(
    nc: Client, subjects: Subjects, servers: Servers, tmp_path: Path
) -> None:
    await fill(nc, subjects)
    dump = tmp_path / "log.jsonl"
    exported = await asyncio.to_thread(
        phoenix, servers, subjects.namespace, "export", "-o", str(dump)
    )
    assert exported.returncode == 0, exported.stderr
    assert "exported 4 events" in exported.stderr
    target = new_namespace()
    await provision(nc.jetstream(), stream_configs(Subjects(target)))
    try:
        imported = await asyncio.to_thread(phoenix, servers, target, "import", str(dump))
        assert imported.returncode == 0, imported.stderr
        again = await asyncio.to_thread(phoenix, servers, target, "import", str(dump))
        assert again.returncode == 2
        assert "only into an empty log" in again.stderr
        copy = await asyncio.to_thread(phoenix, servers, target, "export")
        original = [
            {k: e[k] for k in ("sequence", "type", "event")} for e in lines(dump.read_text())
        ]
        copied = [{k: e[k] for k in ("sequence", "type", "event")} for e in lines(copy.stdout)]
        assert copied == original
        # The copy is a working log: the event store loads aggregates from it.
        events, _ = await EventStore(nc.jetstream(), Subjects(target)).load("monitor", "m1")
        assert [type(e).__name__ for e in events] == ["MonitorCreated", "MonitorPaused"]
    finally:
        await delete_streams(servers.nats_url, target)


async def test_a_broken_import_file_names_the_line_and_changes_nothing(
    nc: Client, subjects: Subjects, servers: Servers, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    first = {
        "sequence": 1,
        "subject": "x",
        "type": "t",
        "time": "2024-01-01T00:00:00Z",
        "event": {},
    }
    bad.write_text(json.dumps(first) + "\nnot json\n")
    result = await asyncio.to_thread(phoenix, servers, subjects.namespace, "import", str(bad))
    assert result.returncode == 2
    assert "line 2" in result.stderr
    info = await nc.jetstream().stream_info(subjects.stream("EVENTS"))
    assert info.state.messages == 0


async def test_tail_prints_new_events_as_they_are_appended(
    nc: Client, subjects: Subjects, servers: Servers
) -> None:
    await fill(nc, subjects)  # history tail does not replay
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "phoenix_cli",
            "events",
            "tail",
            "--limit",
            "2",
            "--type",
            "monitor.created",
        ],
        env={
            **os.environ,
            "PHOENIX_NATS_URL": servers.nats_url,
            "PHOENIX_NAMESPACE": subjects.namespace,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        said = await asyncio.wait_for(asyncio.to_thread(process.stderr.readline), timeout=60)
        assert said.startswith("phoenix: tailing from sequence"), said
        store = EventStore(nc.jetstream(), subjects)
        _, sequence = await store.load("monitor", "m2")
        await store.append([paused("m2")], sequence)  # filtered out by --type
        await store.append([created("m8")], 0)
        await store.append([created("m9")], 0)
        started = time.monotonic()
        while process.poll() is None and time.monotonic() - started < 20:
            await asyncio.sleep(0.1)
        out, err = process.communicate(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert [e["event"]["aggregate_id"] for e in lines(out)] == ["m8", "m9"]


async def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "phoenix_cli", "events", "stats"],
        env={
            **os.environ,
            "PHOENIX_NATS_URL": "nats://127.0.0.1:1",
            "PHOENIX_NAMESPACE": "nowhere",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot reach NATS" in result.stderr
