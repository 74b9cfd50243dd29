"""Sending commands to their owner and waiting until the result is readable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from nats.aio.client import Client
from phoenix_contracts.base import Accepted, Rejected
from phoenix_contracts.subjects import Subjects
from phoenix_platform.logging import current_correlation
from phoenix_platform.messaging.requests import Unavailable, request
from phoenix_platform.projection import Projector

from phoenix_gateway.api.problems import Problem, from_rejection

T = TypeVar("T")


async def call(
    nc: Client, subject: str, message: Any, kind: type[T], *, timeout: float, owner: str
) -> T:
    """Ask the service behind ``subject``; its refusal becomes the matching problem (4xx),
    its silence a 503 naming ``owner``."""
    try:
        reply = await request(nc, subject, message, kind | Rejected, timeout=timeout)
    except Unavailable:
        raise Problem(503, f"{owner} did not answer; try again shortly") from None
    if isinstance(reply, Rejected):
        raise from_rejection(reply)
    answer: T = reply
    return answer


@dataclass(frozen=True)
class CommandBus:
    nc: Client
    subjects: Subjects
    projector: Projector
    timeout: float

    async def send(self, aggregate: str, command: Any) -> Accepted:
        command = msgspec.structs.replace(command, correlation_id=current_correlation())
        reply = await call(
            self.nc,
            self.subjects.command(aggregate, command.verb),
            command,
            Accepted,
            timeout=self.timeout,
            owner="the service owning this resource",
        )
        # Read your own writes: answer only once our read model shows the change.
        if not await self.projector.wait_for(reply.sequence, timeout=self.timeout):
            raise Problem(503, "the change was saved but is not readable yet; retry the read")
        return reply
