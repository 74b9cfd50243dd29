"""Keyset pagination: ``?limit=&cursor=`` → ``{items, next_cursor}``."""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

import msgspec


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
