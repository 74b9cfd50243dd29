"""One tenant's bad event never stops a projection: it is parked, everyone else's flows."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from nats.aio.client import Client
from phoenix_contracts.base import Event
from phoenix_contracts.identity import OrganizationCreated
from phoenix_contracts.monitors import MonitorCreated, MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.messaging.streams import Streams
from sqlalchemy import text

from tests.infra import Servers
from tests.integration.projections_kit import now, running_stack

pytestmark = pytest.mark.integration


def envelope(aggregate_id: str, organization_id: str) -> dict[str, Any]:
    return {
        "event_id": uuid7(),
        "aggregate_id": aggregate_id,
        "aggregate_version": 1,
        "occurred_at": now(),
        "organization_id": organization_id,
    }


def organization(org: str, name: str) -> OrganizationCreated:
    return OrganizationCreated(**envelope(org, org), name=name, owner_user_id=str(uuid.uuid4()))


def monitor(monitor_id: str, org: str, name: str) -> MonitorCreated:
    spec = MonitorSpec(name=name, type="http", url="https://example.com")
    return MonitorCreated(**envelope(monitor_id, org), spec=spec)


async def append(store: EventStore, *events: Event) -> int:
    last = 0
    for event in events:
        last = await store.append([event], 0)
    return last


async def dead_letters(nc: Client, subjects: Subjects) -> list[dict[str, str]]:
    js = nc.jetstream()
    info = await js.stream_info(Streams(subjects).dead_letters)
    return [
        dict((await js.get_msg(Streams(subjects).dead_letters, seq)).headers or {})
        for seq in range(1, info.state.last_seq + 1)
    ]


async def test_a_nul_byte_is_parked_and_the_next_organization_is_applied_everywhere(
    servers: Servers, nc: Client, subjects: Subjects
) -> None:
    js = nc.jetstream()
    store = EventStore(js, subjects)
    hostile_org, hostile_monitor = str(uuid.uuid4()), str(uuid.uuid4())
    other_org, other_monitor = str(uuid.uuid4()), str(uuid.uuid4())
    async with running_stack(servers.admin_database_url, js, subjects) as stack:
        await append(
            store,
            organization(hostile_org, "\u0000"),
            monitor(hostile_monitor, hostile_org, "x\x00"),
        )
        last = await append(
            store, organization(other_org, "Fine"), monitor(other_monitor, other_org, "fine")
        )

        assert await stack.wait_for(last) == dict.fromkeys(stack.projectors, True)
        async with stack.engines["gateway"].connect() as conn:
            names = (await conn.execute(text("select id::text, spec->>'name' from monitors"))).all()
        assert names == [(other_monitor, "fine")]
        async with stack.engines["auth"].connect() as conn:
            orgs = (await conn.execute(text("select id::text, name from organizations"))).all()
        assert orgs == [(other_org, "Fine")]
        async with stack.engines["notifier"].connect() as conn:
            routed = (await conn.execute(text("select id::text, name from monitors"))).all()
        assert routed == [(other_monitor, "fine")]
        for projector in stack.projectors.values():
            assert await projector.is_ready()

    parked = await dead_letters(nc, subjects)
    by_consumer = {(p["Phx-Dlq-Consumer"], int(p["Phx-Dlq-Sequence"])) for p in parked}
    assert by_consumer == {
        ("auth-identity", 1),
        ("gateway-read-model", 2),
        ("notifier-routing", 2),
    }
    for letter in parked:
        assert letter["Phx-Dlq-Stream"] == Streams(subjects).events
        assert letter["Phx-Dlq-Subject"].startswith(f"{subjects.namespace}.evt.")
        assert "Error" in letter["Phx-Dlq-Error"]  # the database's own error, named
