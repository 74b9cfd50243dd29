"""Which failures park a message (data) and which are waited out (infrastructure)."""

from __future__ import annotations

import asyncpg
import msgspec
import pytest
from phoenix_platform.errors import is_data_error, is_infrastructure_error, sqlstate
from phoenix_platform.follower import stalled_for
from phoenix_platform.messaging.work import PermanentError
from sqlalchemy.exc import DBAPIError, OperationalError


def wrapped(error: BaseException) -> DBAPIError:
    """What SQLAlchemy raises around an asyncpg error (its adapter sets ``sqlstate``)."""

    class AdaptedError(Exception):
        def __init__(self, cause: BaseException) -> None:
            super().__init__(str(cause))
            self.sqlstate = getattr(cause, "sqlstate", None)
            self.__cause__ = cause

    return DBAPIError("insert ...", {}, AdaptedError(error))


def postgres(error: type[asyncpg.PostgresError]) -> asyncpg.PostgresError:
    return error("refused")


DATA = [
    wrapped(postgres(asyncpg.CharacterNotInRepertoireError)),  # 22021: a NUL byte in text
    wrapped(postgres(asyncpg.UntranslatableCharacterError)),  # 22P05
    wrapped(postgres(asyncpg.StringDataRightTruncationError)),  # 22001
    wrapped(postgres(asyncpg.UniqueViolationError)),  # 23505
    wrapped(postgres(asyncpg.CheckViolationError)),  # 23514
    wrapped(postgres(asyncpg.ProgramLimitExceededError)),  # 54000: a megabyte in an index
    ValueError("bad value"),
    KeyError("missing"),
    TypeError("wrong type"),
    UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    msgspec.ValidationError("Expected `str`"),
]
INFRASTRUCTURE = [
    ConnectionRefusedError(111, "Connect call failed"),
    ConnectionResetError(104, "reset by peer"),
    TimeoutError(),
    wrapped(postgres(asyncpg.ConnectionDoesNotExistError)),  # 08003
    wrapped(postgres(asyncpg.AdminShutdownError)),  # 57P01
    wrapped(postgres(asyncpg.CannotConnectNowError)),  # 57P03
    wrapped(postgres(asyncpg.TooManyConnectionsError)),  # 53300
    wrapped(postgres(asyncpg.SerializationError)),  # 40001
    wrapped(postgres(asyncpg.DeadlockDetectedError)),  # 40P01
    wrapped(postgres(asyncpg.QueryCanceledError)),  # 57014: a statement timeout
    OperationalError("select 1", {}, ConnectionRefusedError(111, "refused")),
]


@pytest.mark.parametrize("error", DATA, ids=lambda e: type(e).__name__)
def test_a_data_error_is_parked_never_waited_out(error: BaseException) -> None:
    assert is_data_error(error)
    assert not is_infrastructure_error(error)


@pytest.mark.parametrize("error", INFRASTRUCTURE, ids=lambda e: type(e).__name__)
def test_an_infrastructure_error_is_waited_out_never_parked(error: BaseException) -> None:
    assert is_infrastructure_error(error)
    assert not is_data_error(error)


def test_the_sqlstate_is_found_through_every_wrapper() -> None:
    assert sqlstate(wrapped(postgres(asyncpg.CharacterNotInRepertoireError))) == "22021"
    assert sqlstate(ValueError("no database here")) is None


def test_a_failure_of_unknown_kind_is_neither() -> None:
    # Retried a few times, then parked: neither wedged for ever nor dropped at once.
    for error in (RuntimeError("bug"), AttributeError("x"), PermanentError("no")):
        assert not is_data_error(error)
        assert not is_infrastructure_error(error)


@pytest.mark.parametrize(
    ("now", "advanced_at", "behind_since", "stalled"),
    [
        (100.0, 0.0, None, 0.0),  # nothing to apply: never stalled
        (100.0, 0.0, 99.0, 1.0),  # idle for long, work arrived a second ago
        (100.0, 90.0, 50.0, 10.0),  # behind since 50 but applied at 90: a burst in progress
        (100.0, 10.0, 20.0, 80.0),  # work waiting since 20 and nothing applied since
    ],
)
def test_a_follower_is_stalled_only_for_the_time_it_had_work_and_did_none(
    now: float, advanced_at: float, behind_since: float | None, stalled: float
) -> None:
    assert stalled_for(now, advanced_at, behind_since) == stalled
