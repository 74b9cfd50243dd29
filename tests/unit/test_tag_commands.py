"""The tag aggregate (``phoenix_gateway.config.tags``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from phoenix_contracts.base import Rejected
from phoenix_contracts.tags import (
    CreateTag,
    DeleteTag,
    TagCommand,
    TagCreated,
    TagDeleted,
    TagSpec,
    TagUpdated,
    UpdateTag,
)
from phoenix_gateway.config.tags import Context, TagState, decide, evolve

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ORG = "org-1"
TAG_ID = "tag-1"


def create(name: str = "prod", color: str = "#1f8b4c", org: str = ORG) -> CreateTag:
    return CreateTag(organization_id=org, spec=TagSpec(name=name, color=color))


def run(
    *commands: TagCommand, taken: dict[str, str] | None = None
) -> tuple[TagState, list[object]]:
    state, decisions = TagState(), []
    for n, command in enumerate(commands):
        decision = decide(state, command, Context(TAG_ID, f"e{n}", NOW, taken or {}))
        decisions.append(decision)
        for event in decision if isinstance(decision, list) else []:
            state = evolve(state, event)
    return state, decisions


def outcome(decision: object) -> object:
    if isinstance(decision, Rejected):
        return (decision.code, decision.field)
    assert isinstance(decision, list)
    return [type(e) for e in decision]


@pytest.mark.parametrize(
    ("commands", "taken", "expected"),
    [
        ((create(),), {}, [TagCreated]),
        ((create(name="prod"),), {"prod": "tag-other"}, ("conflict", "name")),
        ((create(name="Prod"),), {"prod": "tag-other"}, ("conflict", "name")),  # any case
        ((create(color="green"),), {}, ("invalid", "color")),
        ((create(color="#12345"),), {}, ("invalid", "color")),
        ((create(color="#12345g"),), {}, ("invalid", "color")),
        ((create(name=" "),), {}, ("invalid", "name")),
        ((create(name="x" * 65),), {}, ("invalid", "name")),
        # renaming to its own name is not a clash; to another tag's is
        (
            (create(), UpdateTag(organization_id=ORG, tag_id=TAG_ID, spec=TagSpec(name="prod"))),
            {"prod": TAG_ID},
            [TagUpdated],
        ),
        (
            (create(), UpdateTag(organization_id=ORG, tag_id=TAG_ID, spec=TagSpec(name="db"))),
            {"prod": TAG_ID, "db": "tag-2"},
            ("conflict", "name"),
        ),
        ((create(), DeleteTag(organization_id=ORG, tag_id=TAG_ID)), {}, [TagDeleted]),
        ((create(), DeleteTag(organization_id="other", tag_id=TAG_ID)), {}, ("not_found", None)),
        (
            (
                create(),
                DeleteTag(organization_id=ORG, tag_id=TAG_ID),
                DeleteTag(organization_id=ORG, tag_id=TAG_ID),
            ),
            {},
            ("not_found", None),
        ),
        ((DeleteTag(organization_id=ORG, tag_id=TAG_ID),), {}, ("not_found", None)),
    ],
)
def test_decisions(
    commands: tuple[TagCommand, ...], taken: dict[str, str], expected: object
) -> None:
    _, decisions = run(*commands, taken=taken)
    assert outcome(decisions[-1]) == expected


def test_a_created_tag_keeps_its_fields_with_the_color_lower_cased() -> None:
    _, decisions = run(create(name="prod", color="#ABCDEF"))
    event = decisions[0][0]  # type: ignore[index]
    assert isinstance(event, TagCreated)
    assert (event.name, event.color, event.aggregate_id, event.organization_id) == (
        "prod",
        "#abcdef",
        TAG_ID,
        ORG,
    )
