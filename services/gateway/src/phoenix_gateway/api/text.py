"""One check of every text the API reads: bodies, query and path parameters, headers, cookies.

Text PostgreSQL cannot store (a NUL, a lone surrogate) is refused here with a 422
naming the field, once for every route, so no handler (and no route added later)
can pass it on to a projection that would stop on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from phoenix_platform.text import Unstorable, find_unstorable, find_unstorable_json

from phoenix_gateway.api.problems import Problem


def unstorable_problem(found: Unstorable) -> Problem:
    return Problem(
        422,
        f"{found.field} {found.reason}",
        [{"field": found.field, "message": found.reason}],
    )


class CheckedRequest(Request[Any, Any, Any]):
    """A request whose JSON body is refused if any string in it cannot be stored."""

    async def json(self) -> Any:
        # JSON can only carry a NUL or a surrogate as a \u escape, which the
        # scan of the raw bytes finds before any handler sees the value.
        if found := find_unstorable_json(await self.body()):
            raise unstorable_problem(found)
        return await super().json()


def _parameters(connection: ASGIConnection[Any, Any, Any, Any]) -> Iterable[tuple[str, Any]]:
    yield from connection.path_params.items()
    yield from connection.query_params.multi_items()
    yield from connection.headers.items()
    yield from connection.cookies.items()


async def refuse_unstorable_parameters(
    connection: ASGIConnection[Any, Any, Any, Any], _: Any
) -> None:
    """A guard: the first parameter, header or cookie that cannot be stored is a 422."""
    for name, value in _parameters(connection):
        if found := find_unstorable({name: value}):
            raise unstorable_problem(found)
