"""Keyset pagination: ``?limit=&cursor=`` → ``{items, next_cursor}``."""

from __future__ import annotations

from typing import Annotated, Generic, Protocol, TypeVar
from uuid import UUID

import msgspec
from litestar.params import Parameter

# An id inside a request body: the canonical text form of a UUID.
UuidText = Annotated[
    str, msgspec.Meta(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]

# A real UUID, not just UUID-shaped text: the database would refuse anything else.
Cursor = Annotated[UUID | None, Parameter(description="next_cursor of the previous page")]


class HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=HasId)


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(items: list[T], limit: int) -> Page[T]:
    """``items`` was fetched with ``limit + 1`` rows: the extra one says a next page exists."""
    if len(items) > limit:
        return Page(items=items[:limit], next_cursor=items[limit - 1].id)
    return Page(items=items, next_cursor=None)
