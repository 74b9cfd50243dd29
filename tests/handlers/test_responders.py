"""Request handlers behind faststream's in-memory TestNatsBroker: no server needed."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from faststream.nats import TestNatsBroker
from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import Authenticate, Principal, UserView
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.broker import create_broker
from phoenix_platform.messaging.codec import encode
from phoenix_platform.messaging.requests import responder

SUBJECTS = Subjects("unit")
PRINCIPAL = Principal(
    user=UserView(id="u1", username="alice", email="a@example.com"),
    organization_id="o1",
    role="owner",
)


def decode(reply: Any) -> Principal | Rejected:
    body = reply.body if hasattr(reply, "body") else reply
    return msgspec.json.decode(body, type=Principal | Rejected)


async def answer(request: Authenticate) -> Principal | Rejected:
    if request.session_token == "crash":
        raise RuntimeError("database exploded")
    if request.session_token != "good":
        return Rejected(code="unauthorized", message="unknown session")
    return PRINCIPAL


def broker_with_responder():  # type: ignore[no-untyped-def]
    broker = create_broker("nats://127.0.0.1:1", "unit")
    responder(
        broker, SUBJECTS.auth("authenticate"), queue="auth", kind=Authenticate, handler=answer
    )
    return broker


async def test_a_valid_request_gets_the_handlers_answer() -> None:
    async with TestNatsBroker(broker_with_responder()) as broker:
        reply = await broker.request(
            encode(Authenticate(session_token="good")), SUBJECTS.auth("authenticate")
        )
        assert decode(reply) == PRINCIPAL


async def test_a_malformed_request_is_rejected_naming_the_field() -> None:
    async with TestNatsBroker(broker_with_responder()) as broker:
        reply = await broker.request(
            b'{"type": "authenticate", "session_token": 42}', SUBJECTS.auth("authenticate")
        )
        rejected = decode(reply)
        assert isinstance(rejected, Rejected)
        assert rejected.code == "invalid"
        assert rejected.field == "session_token"


async def test_undecodable_bytes_are_rejected_not_dropped() -> None:
    async with TestNatsBroker(broker_with_responder()) as broker:
        reply = await broker.request(b"\xff\x00not json", SUBJECTS.auth("authenticate"))
        rejected = decode(reply)
        assert isinstance(rejected, Rejected)
        assert rejected.code == "invalid"


async def test_a_handler_crash_answers_unavailable_instead_of_a_timeout() -> None:
    async with TestNatsBroker(broker_with_responder()) as broker:
        reply = await broker.request(
            encode(Authenticate(session_token="crash")), SUBJECTS.auth("authenticate")
        )
        rejected = decode(reply)
        assert isinstance(rejected, Rejected)
        assert rejected.code == "unavailable"
        assert "exploded" not in rejected.message  # internals stay in the log


@pytest.mark.parametrize("token", ["\\u0000", "x\\u0000y", "\\ud800", "\\udfff"])
async def test_text_no_store_can_hold_is_rejected_naming_the_field(token: str) -> None:
    # A script may send any bytes to a command subject: NUL and lone surrogates
    # never reach a handler (and from there an event a projection cannot store).
    async with TestNatsBroker(broker_with_responder()) as broker:
        raw = b'{"type": "authenticate", "session_token": "' + token.encode() + b'"}'
        rejected = decode(await broker.request(raw, SUBJECTS.auth("authenticate")))
        assert isinstance(rejected, Rejected)
        assert (rejected.code, rejected.field) == ("invalid", "session_token")
