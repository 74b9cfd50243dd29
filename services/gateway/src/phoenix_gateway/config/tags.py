"""The tag aggregate: pure decide/evolve, no I/O.

A tag's name is unique (case-insensitively) within its organization. The
names already taken come from the read model, passed in by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from phoenix_contracts.base import Event, Rejected
from phoenix_contracts.tags import (
    TAG,
    CreateTag,
    DeleteTag,
    TagCommand,
    TagCreated,
    TagDeleted,
    TagSpec,
    TagUpdated,
    UpdateTag,
)

from phoenix_gateway.config.aggregate import Aggregate, next_envelope

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_NAME = 64
MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class TagState:
    exists: bool = False
    deleted: bool = False
    organization_id: str = ""
    version: int = 0


def evolve(state: TagState, event: Event) -> TagState:
    match event:
        case TagCreated():
            return TagState(True, False, event.organization_id, event.aggregate_version)
        case TagUpdated():
            return replace(state, version=event.aggregate_version)
        case TagDeleted():
            return replace(state, deleted=True, version=event.aggregate_version)
    return state


TAGS = Aggregate(name=TAG, initial=TagState(), evolve=evolve)


@dataclass(frozen=True)
class Context:
    aggregate_id: str
    event_id: str
    now: datetime
    # the organization's tags: lower-cased name → tag id
    taken_names: Mapping[str, str] = field(default_factory=dict)


def validate_tag(spec: TagSpec, tag_id: str, taken: Mapping[str, str]) -> Rejected | None:
    name = spec.name.strip()
    if not name or len(name) > MAX_NAME or name != spec.name:
        return Rejected(
            code="invalid",
            field="name",
            message=f"1 to {MAX_NAME} characters, no leading or trailing spaces",
        )
    if not COLOR.match(spec.color):
        return Rejected(code="invalid", field="color", message="a color like #1f8b4c")
    if len(spec.description) > MAX_DESCRIPTION:
        return Rejected(
            code="invalid", field="description", message=f"at most {MAX_DESCRIPTION} characters"
        )
    owner = taken.get(name.lower())
    if owner is not None and owner != tag_id:
        return Rejected(code="conflict", field="name", message=f"a tag named {name!r} exists")
    return None


def decide(state: TagState, cmd: TagCommand, ctx: Context) -> list[Event] | Rejected:
    if not isinstance(cmd, CreateTag) and (
        not state.exists or state.deleted or state.organization_id != cmd.organization_id
    ):
        return Rejected(code="not_found", message="tag not found")
    env = next_envelope(state.version, cmd, ctx)
    match cmd:
        case CreateTag(spec=spec) | UpdateTag(spec=spec):
            if (problem := validate_tag(spec, ctx.aggregate_id, ctx.taken_names)) is not None:
                return problem
            kind = TagCreated if isinstance(cmd, CreateTag) else TagUpdated
            return [
                kind(name=spec.name, color=spec.color.lower(), description=spec.description, **env)
            ]
        case DeleteTag():
            return [TagDeleted(**env)]
    return Rejected(code="invalid", message="unknown command")
