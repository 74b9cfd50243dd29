"""``phoenix dead-letters``: an operator sees what was parked and puts it back."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid

import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.eventstore import EventStore
from phoenix_platform.messaging.streams import Streams
from sqlalchemy import text

from tests.infra import Servers
from tests.integration.projections_kit import phoenix, running_stack
from tests.integration.test_batch_consumer import results_consumer
from tests.integration.test_projection_parking import append, monitor

pytestmark = pytest.mark.integration


async def cli(
    servers: Servers, url: str, namespace: str, *args: str
) -> subprocess.CompletedProcess[str]:
    return await phoenix(servers, url, namespace, "dead-letters", *args)


async def park_a_broken_result(servers: Servers, subjects: Subjects, data: bytes) -> None:
    """A result that does not decode, through the history writer's kind of consumer."""
    broker, consumer = results_consumer(
        servers, subjects, "history", lambda items: asyncio.sleep(0)
    )
    await broker.connect()
    await broker.connection.jetstream().publish(subjects.result(str(uuid.uuid4())), data)
    task = asyncio.create_task(consumer.run())
    try:
        js = broker.connection.jetstream()
        async with asyncio.timeout(20):
            # Three events parked by the projections before, and this result.
            while (await js.stream_info(Streams(subjects).dead_letters)).state.messages < 4:
                await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broker.stop()


async def test_parked_messages_are_listed_and_replayed_where_they_failed(
    servers: Servers, nc: Client, subjects: Subjects
) -> None:
    js = nc.jetstream()
    streams = Streams(subjects)
    org, refused, hostile, fine = (str(uuid.uuid4()) for _ in range(4))
    async with running_stack(servers.admin_database_url, js, subjects) as stack:
        # A constraint the next release will drop: the event it refuses is worth replaying.
        async with stack.engines["gateway"].begin() as conn:
            await conn.execute(
                text(
                    "alter table monitors add constraint no_refused"
                    " check (spec->>'name' <> 'refused')"
                )
            )
        last = await append(
            EventStore(js, subjects),
            monitor(refused, org, "refused"),
            monitor(hostile, org, "x\x00"),
            monitor(fine, org, "fine"),
        )
        assert (await stack.wait_for(last))["gateway-read-model"]
        await park_a_broken_result(servers, subjects, b'{"not": "a result"}')
        namespace = subjects.namespace

        listed = await cli(
            servers, stack.url, namespace, "list", "--consumer", "gateway-read-model"
        )
        assert listed.returncode == 0, listed.stderr
        letters = [json.loads(line) for line in listed.stdout.splitlines()]
        assert [(x["original_sequence"], x["stream"]) for x in letters] == [
            (1, streams.events),
            (2, streams.events),
        ]
        assert "no_refused" in letters[0]["error"]
        table = await cli(servers, stack.url, namespace, "list", "--table")
        assert table.returncode == 0
        assert len(table.stdout.splitlines()) == 5
        everything = [
            json.loads(line)
            for line in (await cli(servers, stack.url, namespace, "list")).stdout.splitlines()
        ]
        [result_letter] = [x for x in everything if x["stream"] == streams.results]
        [routing_letter] = [x for x in everything if x["consumer"] == "notifier-routing"]

        # Still refused by the projection: it stays parked, nothing changes.
        again = await cli(servers, stack.url, namespace, "replay", str(letters[1]["sequence"]))
        assert again.returncode == 1
        assert "still parked" in again.stderr

        # Fixed: re-applied to the read model that skipped it, not appended to the log.
        async with stack.engines["gateway"].begin() as conn:
            await conn.execute(text("alter table monitors drop constraint no_refused"))
        log_end = (await js.stream_info(streams.events)).state.last_seq
        replayed = await cli(servers, stack.url, namespace, "replay", str(letters[0]["sequence"]))
        assert replayed.returncode == 0, replayed.stderr
        assert "gateway-read-model" in replayed.stdout
        async with stack.engines["gateway"].connect() as conn:
            names = set((await conn.execute(text("select spec->>'name' from monitors"))).scalars())
        assert names == {"refused", "fine"}
        assert (await js.stream_info(streams.events)).state.last_seq == log_end
        with pytest.raises(NotFoundError):
            await js.get_msg(streams.dead_letters, letters[0]["sequence"])

        # A work-queue message goes back to its subject, where its consumer takes it.
        results_end = (await js.stream_info(streams.results)).state.last_seq
        back = await cli(servers, stack.url, namespace, "replay", str(result_letter["sequence"]))
        assert back.returncode == 0, back.stderr
        republished = await js.get_msg(streams.results, results_end + 1)
        assert republished.subject == result_letter["subject"]
        assert republished.data == b'{"not": "a result"}'

        # The routing sends alerts: never replayed from here, and it says why.
        refused_replay = await cli(
            servers, stack.url, namespace, "replay", str(routing_letter["sequence"])
        )
        assert refused_replay.returncode == 2
        assert "notifier" in refused_replay.stderr
