"""The command loop of every aggregate writer (config role, evaluator, ...).

load the aggregate's events → fold them with ``evolve`` → ``decide`` → append
with the sequence we loaded at. If another writer got there first the append
is refused; we reload and decide again (a few times, then report a conflict).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from phoenix_contracts.base import Accepted, Envelope, Event, Rejected

from phoenix_platform.messaging.codec import event_type
from phoenix_platform.messaging.eventstore import ConcurrencyConflict, EventStore

State = TypeVar("State")

ATTEMPTS = 3


@dataclass(frozen=True)
class Aggregate(Generic[State]):
    name: str
    initial: State
    evolve: Callable[[State, Event], State]

    def fold(self, events: list[Event]) -> State:
        state = self.initial
        for event in events:
            state = self.evolve(state, event)
        return state


async def execute(
    store: EventStore,
    aggregate: Aggregate[State],
    aggregate_id: str,
    decide: Callable[[State], list[Event] | Rejected],
) -> Accepted | Rejected:
    for _ in range(ATTEMPTS):
        events, sequence = await store.load(aggregate.name, aggregate_id)
        decision = decide(aggregate.fold(events))
        if isinstance(decision, Rejected):
            return decision
        try:
            sequence = await store.append(decision, sequence)
        except ConcurrencyConflict:
            continue
        return Accepted(
            aggregate_id=aggregate_id, sequence=sequence, events=[event_type(e) for e in decision]
        )
    return Rejected(code="conflict", message="the resource changed concurrently; try again")


class CommandContext(Protocol):
    """What a decision needs from outside: the ids and clock it may not make itself."""

    @property
    def aggregate_id(self) -> str: ...
    @property
    def event_id(self) -> str: ...
    @property
    def now(self) -> datetime: ...


class Addressed(Protocol):
    """Every command names its organization and correlation."""

    @property
    def organization_id(self) -> str: ...
    @property
    def correlation_id(self) -> str: ...


def next_envelope(version: int, cmd: Addressed, ctx: CommandContext) -> Envelope:
    """The envelope of the event that follows ``version``, as keyword arguments."""
    return Envelope(
        event_id=ctx.event_id,
        aggregate_id=ctx.aggregate_id,
        aggregate_version=version + 1,
        occurred_at=ctx.now,
        organization_id=cmd.organization_id,
        correlation_id=cmd.correlation_id,
    )
