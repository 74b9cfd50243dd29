"""Ending sessions wins every race with their use, on real Redis (and the real handlers).

A request resolving a session reads it and then slides its expiry; a logout or
password change landing between the two must not be undone by that write.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from phoenix_auth.account import change_password, log_out
from phoenix_auth.handlers import AuthDeps, authenticate
from phoenix_auth.sessions import SessionRecord, SessionStore, digest_of
from phoenix_contracts.base import Rejected
from phoenix_contracts.identity import Authenticate, ChangePassword, LoggedIn, LogOut

from tests.handlers.auth_kit import PASSWORD, signed_up

pytestmark = pytest.mark.integration
ITERATIONS = 200
USES = 6  # requests using the session while it ends
CLIENTS = 20  # requests in flight without pause while a password changes


def record(user_id: str, organization_id: str = "org") -> SessionRecord:
    return SessionRecord(user_id=user_id, organization_id=organization_id, created_at=time.time())


async def test_a_session_in_use_while_it_is_logged_out_is_never_written_back(
    deps: AuthDeps,
) -> None:
    store = deps.sessions
    revived = 0
    for _ in range(ITERATIONS):
        token = await store.create(record("user-a"))
        await asyncio.gather(*[store.resolve(token) for _ in range(USES)], store.end(token))
        revived += await store.resolve(token) is not None
    assert revived == 0, f"{revived} of {ITERATIONS} logged-out sessions came back"


async def test_a_session_in_use_during_end_all_is_never_revived_nor_hidden(
    deps: AuthDeps,
) -> None:
    store = deps.sessions
    survivors = 0
    for n in range(ITERATIONS):
        user = f"user-{n}"
        token = await store.create(record(user))
        await asyncio.gather(*[store.resolve(token) for _ in range(USES)], store.end_all(user))
        # A revived session used to outlive a second "end all" too: it had left the index.
        await store.end_all(user)
        survivors += await store.resolve(token) is not None
        assert await store.of_user(user) == []
    assert survivors == 0, f"{survivors} of {ITERATIONS} sessions survived ending them all"


async def test_a_session_of_an_older_generation_is_dead_even_if_its_record_is_back(
    deps: AuthDeps,
) -> None:
    """Whatever writes a stale record back (an old replica, a restored dump), it stays dead."""
    store = deps.sessions
    token = await store.create(record("user-g"))
    key = f"{deps.namespace}:session:{digest_of(token)}"
    stale = await deps.redis.get(key)
    assert stale is not None
    assert await store.end_all("user-g") == 1
    await deps.redis.set(key, stale, ex=600)
    await deps.redis.sadd(f"{deps.namespace}:user-sessions:user-g", digest_of(token))
    assert await store.resolve(token) is None
    assert await store.of_user("user-g") == []
    fresh = await store.create(record("user-g"))
    assert await store.resolve(fresh) is not None  # sessions begun after it work


async def test_a_session_record_from_before_generations_still_works(deps: AuthDeps) -> None:
    """Sessions stored before this change have no generation: they are of generation 0."""
    store = SessionStore(deps.redis, deps.namespace, 3600, 7200)
    token = await store.create(record("user-old"))
    key = f"{deps.namespace}:session:{digest_of(token)}"
    await deps.redis.set(
        key, b'{"user_id":"user-old","organization_id":"org","created_at":%f}' % time.time()
    )
    assert await store.resolve(token) is not None


async def test_requests_racing_a_password_change_leave_no_session_alive(deps: AuthDeps) -> None:
    """Through the handlers: authenticate (what every request does) used without pause
    by an attacker's client while the owner changes the password."""
    user_id, org_id, _ = await signed_up(deps)
    passwords = [PASSWORD, "a second long passphrase"]
    for n in range(10):
        stolen = await deps.sessions.create(record(user_id, org_id))
        changing = asyncio.create_task(
            change_password(
                ChangePassword(
                    user_id=user_id,
                    organization_id=org_id,
                    current_password=passwords[n % 2],
                    new_password=passwords[(n + 1) % 2],
                ),
                deps,
            )
        )

        async def use_until_changed(
            token: str = stolen, changing: asyncio.Task[object] = changing
        ) -> None:
            while not changing.done():
                await authenticate(Authenticate(session_token=token), deps)

        await asyncio.gather(*[use_until_changed() for _ in range(CLIENTS)])
        changed = changing.result()
        assert isinstance(changed, LoggedIn), changed
        after = await authenticate(Authenticate(session_token=stolen), deps)
        assert isinstance(after, Rejected), f"the stolen session survived password change {n}"
        listed = [session for session, _ in await deps.sessions.of_user(user_id)]
        assert listed == [digest_of(changed.session_token)[:16]]
        await log_out(LogOut(session_token=changed.session_token), deps)
