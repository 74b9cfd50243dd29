"""Which failures are the input's fault and which are the infrastructure's.

Every consumer (projections, work queues, the history writer) asks these two
questions of an error before deciding to park a message or to wait:

- :func:`is_data_error`: the same input will fail the same way however often
  it is retried (PostgreSQL SQLSTATE class 22 "data exception", 23
  "integrity constraint violation" or 54 "program limit exceeded", such as a
  megabyte in an indexed column; or Python failing to map the row). Park
  that one message and move on: retrying would stop everything behind it.
- :func:`is_infrastructure_error`: a server is unreachable, restarting,
  overloaded or lost a race (SQLSTATE 08, 53, 57, 40001, 40P01; refused or
  lost connections; timeouts). Wait and retry, never park: the input is fine,
  and parking it would lose data the moment the database blinks.

PostgreSQL errors reach us wrapped (SQLAlchemy's ``DBAPIError`` around its
asyncpg adapter around asyncpg's exception), so both look through ``orig``
and ``__cause__`` for a SQLSTATE. Duck-typed on purpose: services without a
database import this too, without SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

# Errors raised while turning an event into row values (or a value PostgreSQL's
# driver refuses before sending it, such as a lone surrogate).
MAPPING_ERRORS = (ValueError, TypeError, KeyError, UnicodeError, msgspec.ValidationError)
# 22 data exception, 23 integrity violation, 54 program limit exceeded (a value
# too large for an index row, a text too long for a tsvector: the input's size).
DATA_SQLSTATE_CLASSES = frozenset({"22", "23", "54"})
# 08 connection exception, 53 insufficient resources, 57 operator intervention
# (admin shutdown, cannot connect now, query canceled by a timeout).
INFRASTRUCTURE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})
# Lost a race with another transaction: the retry is expected to pass.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it wraps (``orig`` of SQLAlchemy errors, ``__cause__``), once each."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "orig", None)
        if isinstance(wrapped, BaseException) and id(wrapped) not in seen:
            current = wrapped
        elif current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None


def sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL error code behind ``exc``, if it came from PostgreSQL."""
    for cause in causes(exc):
        code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(code, str) and len(code) == 5:
            return code
    return None


def is_infrastructure_error(exc: BaseException) -> bool:
    """A server failed us, not the input: wait and retry, never park."""
    code = sqlstate(exc)
    if code is not None:
        return code[:2] in INFRASTRUCTURE_SQLSTATE_CLASSES or code in RETRY_SQLSTATES
    for cause in causes(exc):
        # OSError covers refused and reset connections and TimeoutError; SQLAlchemy
        # marks a connection it found dead, and its pool times out on its own.
        if isinstance(cause, OSError) or getattr(cause, "connection_invalidated", False):
            return True
        if type(cause).__name__ in {"DisconnectionError", "TimeoutError"}:
            return True
        if type(cause).__module__.startswith("nats") and "Connection" in type(cause).__name__:
            return True
    return False


def is_data_error(exc: BaseException) -> bool:
    """The input itself cannot be stored or mapped: retrying gives the same error."""
    code = sqlstate(exc)
    if code is not None:
        return code[:2] in DATA_SQLSTATE_CLASSES
    if is_infrastructure_error(exc):
        return False
    return any(isinstance(cause, MAPPING_ERRORS) for cause in causes(exc))
