"""Every event type, with hostile text in every field, through every projection.

A tenant controls most text in the log (names, URLs, headers, messages). Whatever
it is (a NUL byte, a lone surrogate, half a megabyte), no projection may wedge on it
or crash: the event is applied or parked, and the next tenant's event is applied.
Real NATS and PostgreSQL; the three SQL projections (gateway read model, auth
identities, notifier routing) and the two in-memory followers (scheduler,
evaluator) follow one log.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args

import msgspec
import nats
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.aio.client import Client
from phoenix_contracts.log import AnyEvent
from phoenix_contracts.monitors import MonitorCreated, MonitorSpec
from phoenix_contracts.subjects import Subjects
from phoenix_evaluator.state import EvaluatorState
from phoenix_platform.follower import Follower, MemoryFollower
from phoenix_platform.ids import uuid7
from phoenix_platform.messaging.codec import decode_event, encode
from phoenix_platform.messaging.streams import Streams, provision, stream_configs
from phoenix_scheduler.scheduler import Scheduler
from sqlalchemy import text

from tests.infra import Servers
from tests.integration.projections_kit import Stack, running_stack, supervised

pytestmark = pytest.mark.integration
EVENT_TYPES: list[type[Any]] = list(get_args(AnyEvent))
# A lone surrogate cannot be encoded by Python; it goes into the JSON as an escape.
SURROGATE = "\ufdd0surrogate\ufdd0"
HOSTILE = {
    "nul": "x\x00y",
    "surrogate": SURROGATE,
    # With the rest of the event, just under the streams' largest message
    # (PHOENIX_MAX_MESSAGE_KB, 512 KiB): far past any index row's limit.
    "large": "m" * 450_000,
    "mixed": "\x00\u202e\ufeff' or 1=1 --\r\n<script>",
}
# Benign values for fields with a pattern, tried in order (email, phone, Twilio
# account, header name, topic, colour ...): the hostile text goes everywhere else.
PATTERNED = ["x", "a@example.com", "+15555550100", "AC" + "0" * 32, "X-Test", "#ff0000", "00:00"]


@dataclass
class Hostile:
    """Builds an event's JSON with ``text`` in every free-text field."""

    text: str
    budget: int = 450_000  # characters of hostile text this event may still hold
    now: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def value(self, info: msgspec.inspect.Type, name: str = "") -> Any:
        kind = type(info).__name__
        if kind == "StrType":
            return self._text(info, name)  # type: ignore[arg-type]
        simple: dict[str, Callable[[], Any]] = {
            "IntType": lambda: max(
                getattr(info, "ge", None) or 0, (getattr(info, "gt", None) or -1) + 1
            ),
            "FloatType": lambda: float(max(getattr(info, "ge", None) or 1.0, 1.0)),
            "BoolType": lambda: True,
            "NoneType": lambda: None,
            "DateTimeType": lambda: self.now,
            "DateType": lambda: self.now[:10],
            "UUIDType": lambda: str(uuid.uuid4()),
            "AnyType": self._budgeted,
        }
        if kind in simple:
            return simple[kind]()
        if kind == "LiteralType":
            return info.values[0]  # type: ignore[attr-defined]
        if kind == "EnumType":
            return next(iter(info.cls)).value  # type: ignore[attr-defined]
        if kind in {"ListType", "SetType", "FrozenSetType", "VarTupleType"}:
            return [self.value(info.item_type, name)] * max(1, info.min_length or 0)  # type: ignore[attr-defined]
        if kind == "TupleType":
            return [self.value(item, name) for item in info.item_types]  # type: ignore[attr-defined]
        if kind == "DictType":
            return {self.value(info.key_type, "key"): self.value(info.value_type, name)}  # type: ignore[attr-defined]
        if kind == "UnionType":
            chosen = [t for t in info.types if type(t).__name__ != "NoneType"]  # type: ignore[attr-defined]
            return self.value(chosen[0], name) if chosen else None
        if kind == "StructType":
            return self.struct(info)  # type: ignore[arg-type]
        return None

    def struct(self, info: msgspec.inspect.StructType) -> dict[str, Any]:
        built = {f.encode_name: self.field(f) for f in info.fields}
        if info.tag_field is not None:
            built[info.tag_field] = info.tag
        return built

    def _budgeted(self) -> str:
        # About 450 KB per event at most (the stream takes 512 KiB): the first free-text
        # field may have all of it, the others a taste.
        value = self.text[: max(100, self.budget)]
        self.budget -= len(value)
        return value

    def field(self, info: msgspec.inspect.Field) -> Any:
        # Text is the tenant's: hostile wherever it can be. Other values keep their
        # default when they have one (a schema version, a flag), else the generic one.
        defaulted = info.default is not msgspec.NODEFAULT and not isinstance(info.default, str)
        if defaulted and type(info.type).__name__ not in {"StrType", "StructType", "UnionType"}:
            return msgspec.to_builtins(info.default)
        return self.value(info.type, info.name)

    def _text(self, info: msgspec.inspect.StrType, name: str) -> str:
        if name == "id" or name.endswith(("_id", "_ids")):
            return str(uuid.uuid4())  # ids are made by the server, never by a tenant
        if info.pattern is not None:
            return next((p for p in PATTERNED if re.search(info.pattern, p)), self.text[:8])
        value = self._budgeted()
        if info.max_length is not None:
            value = value[: info.max_length]
        return value.ljust(info.min_length or 0, "z")


def hostile_event(kind: type[Any], text: str) -> tuple[str, bytes]:
    """(subject aggregate, JSON) of ``kind`` with hostile text; the envelope is the server's."""
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    body = Hostile(text).struct(info)
    body |= {
        "event_id": uuid7(),
        "aggregate_id": str(uuid.uuid4()),
        "organization_id": str(uuid.uuid4()),
        "aggregate_version": 1,
    }
    data = encode(body).replace(SURROGATE.encode(), b"\\ud800")
    return kind.aggregate, data


def canary(org: str) -> MonitorCreated:
    return MonitorCreated(
        event_id=uuid7(),
        aggregate_id=str(uuid.uuid4()),
        aggregate_version=1,
        occurred_at=datetime.now(UTC),
        organization_id=org,
        spec=MonitorSpec(name="canary", type="http", url="https://example.com"),
    )


@dataclass
class Everyone:
    nc: Client
    subjects: Subjects
    stack: Stack
    followers: dict[str, Follower]


@pytest.fixture
async def everyone(servers: Servers, fresh_namespace: str) -> AsyncIterator[Everyone]:
    nc = await nats.connect(servers.nats_url)
    subjects = Subjects(fresh_namespace)
    js = nc.jetstream()
    await provision(js, stream_configs(subjects))
    async with running_stack(servers.admin_database_url, js, subjects) as stack:

        async def no_jobs(job: Any) -> None:
            return None

        memory: dict[str, Follower] = {
            "scheduler": MemoryFollower(
                js, subjects, Scheduler(no_jobs, is_leader=lambda: False).apply, name="scheduler"
            ),
            "evaluator": MemoryFollower(js, subjects, EvaluatorState().apply, name="evaluator"),
        }
        tasks = [asyncio.create_task(supervised(f, stack.crashes)) for f in memory.values()]
        try:
            yield Everyone(nc, subjects, stack, {**stack.projectors, **memory})
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await nc.close()


async def publish_with_canary(
    everyone: Everyone, events: list[tuple[str, bytes]]
) -> tuple[int, str]:
    """Publish ``events`` to the log as they are (no struct checks them), then one
    ordinary event of another organization: the one that must get through."""
    js, subjects = everyone.nc.jetstream(), everyone.subjects
    for aggregate, data in events:
        await js.publish(subjects.event(aggregate, str(uuid.uuid4())), data)
    org = str(uuid.uuid4())
    event = canary(org)
    ack = await js.publish(subjects.event("monitor", event.aggregate_id), encode(event))
    return ack.seq, event.aggregate_id


async def assert_everyone_moved_on(everyone: Everyone, last: int, canary_id: str) -> None:
    reached = await asyncio.gather(*(f.wait_for(last, 120) for f in everyone.followers.values()))
    assert dict(zip(everyone.followers, reached, strict=True)) == dict.fromkeys(
        everyone.followers, True
    )
    assert everyone.stack.crashes == []
    for name, projector in everyone.stack.projectors.items():
        assert await projector.is_ready(), name
    for schema, query in (
        ("gateway", "select count(*) from monitors where id = :id"),
        ("notifier", "select count(*) from monitors where id = :id"),
    ):
        async with everyone.stack.engines[schema].connect() as conn:
            assert await conn.scalar(text(query), {"id": canary_id}) == 1, schema


@pytest.mark.parametrize("variant", sorted(HOSTILE))
async def test_no_event_type_with_hostile_text_wedges_or_crashes_a_projection(
    variant: str, everyone: Everyone
) -> None:
    events = [hostile_event(kind, HOSTILE[variant]) for kind in EVENT_TYPES]
    if variant != "surrogate":  # those cannot decode at all, by design of JSON and msgspec
        decodable = sum(1 for _, data in events if _decodes(data))
        assert decodable >= len(events) * 0.9, "the generator should reach the projections"
    last, canary_id = await publish_with_canary(everyone, events)
    await assert_everyone_moved_on(everyone, last, canary_id)


def _decodes(data: bytes) -> bool:
    try:
        decode_event(data)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return False
    return True


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    texts=st.lists(
        st.text(
            alphabet=st.characters(codec="utf-8", categories=None)
            | st.sampled_from(["\x00", "\u202e", "\ufeff", "\x7f", "'", "\\"]),
            max_size=40,
        ),
        min_size=1,
        max_size=4,
    ),
    kinds=st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=4),
)
async def test_any_text_in_any_event_leaves_the_next_tenant_flowing(
    texts: list[str], kinds: list[type[Any]], everyone: Everyone
) -> None:
    events = [hostile_event(kind, value) for kind in kinds for value in texts]
    last, canary_id = await publish_with_canary(everyone, events)
    await assert_everyone_moved_on(everyone, last, canary_id)


async def test_parked_events_name_the_projection_that_parked_them(everyone: Everyone) -> None:
    last, canary_id = await publish_with_canary(
        everyone, [hostile_event(kind, HOSTILE["nul"]) for kind in EVENT_TYPES]
    )
    await assert_everyone_moved_on(everyone, last, canary_id)
    js = everyone.nc.jetstream()
    stream = Streams(everyone.subjects).dead_letters
    info = await js.stream_info(stream)
    consumers = set()
    for sequence in range(1, info.state.last_seq + 1):
        headers = (await js.get_msg(stream, sequence)).headers or {}
        assert headers["Phx-Dlq-Error"]
        consumers.add(headers["Phx-Dlq-Consumer"])
    # Every SQL projection stores some tenant text and refuses a NUL in it.
    assert {"gateway-read-model", "auth-identity", "notifier-routing"} <= consumers
