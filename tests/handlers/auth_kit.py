"""Helpers for tests of the auth handlers (the ``deps`` fixture is in conftest.py)."""

from __future__ import annotations

import uuid

from phoenix_auth.handlers import AuthDeps, sign_up
from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import SignUp

PASSWORD = "a long passphrase"


async def signed_up(deps: AuthDeps) -> tuple[str, str, str]:
    """(user id, organization id, username) of a new user."""
    name = "u" + uuid.uuid4().hex[:10]
    reply = await sign_up(
        SignUp(username=name, email=f"{name}@example.com", password=PASSWORD), deps
    )
    assert not isinstance(reply, Rejected), reply
    return reply.user.id, reply.organization_id, name
