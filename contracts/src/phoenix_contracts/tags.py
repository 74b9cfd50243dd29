"""Tag family: labels for monitors, unique by name per organization (owned by the config role)."""

from __future__ import annotations

from typing import ClassVar

import msgspec

from phoenix_contracts.base import Event, Message

TAG = "tag"


class TagSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    color: str = "#808080"  # ``#rrggbb``
    description: str = ""


class TagCreated(Event, frozen=True, kw_only=True, tag="tag.created"):
    aggregate: ClassVar[str] = TAG
    name: str
    color: str
    description: str = ""


class TagUpdated(Event, frozen=True, kw_only=True, tag="tag.updated"):
    aggregate: ClassVar[str] = TAG
    name: str
    color: str
    description: str = ""


class TagDeleted(Event, frozen=True, kw_only=True, tag="tag.deleted"):
    aggregate: ClassVar[str] = TAG


TagEvent = TagCreated | TagUpdated | TagDeleted


class CreateTag(Message, frozen=True, kw_only=True, tag="create_tag"):
    verb: ClassVar[str] = "create"
    organization_id: str
    spec: TagSpec
    correlation_id: str = ""


class UpdateTag(Message, frozen=True, kw_only=True, tag="update_tag"):
    verb: ClassVar[str] = "update"
    organization_id: str
    tag_id: str
    spec: TagSpec
    correlation_id: str = ""


class DeleteTag(Message, frozen=True, kw_only=True, tag="delete_tag"):
    verb: ClassVar[str] = "delete"
    organization_id: str
    tag_id: str
    correlation_id: str = ""


TagCommand = CreateTag | UpdateTag | DeleteTag
TAG_VERBS = ("create", "update", "delete")
