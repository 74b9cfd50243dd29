"""Two-factor login over HTTP on the real stack (phoenix dev makes the sealing key)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from phoenix_auth import totp

from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e
PASSWORD = "a long passphrase"
API = "/api/v1"


def new_user(stack: RunningStack) -> tuple[httpx.Client, str, str]:
    """A signed-up user's client (no cookies kept), username and session token."""
    client = httpx.Client(base_url=stack.base_url, timeout=20)
    name = "u" + uuid.uuid4().hex[:10]
    signup = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    assert client.post(f"{API}/auth/signup", json=signup).status_code == 201
    login = client.post(f"{API}/auth/login", json={"username": name, "password": PASSWORD})
    client.cookies.clear()
    return client, name, login.json()["session_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def code_for(secret: str, steps_ahead: int = 0) -> str:
    return totp.totp(totp.decode_secret(secret), time.time() + steps_ahead * totp.STEP_SECONDS)


def test_two_factor_from_enrolment_to_disabling(stack: RunningStack) -> None:
    client, name, token = new_user(stack)
    me = bearer(token)
    state = client.get(f"{API}/account/two-factor", headers=me).json()
    assert state == {"enabled": False, "pending": False, "recovery_codes_left": 0}

    assert client.post(f"{API}/account/two-factor", json={}, headers=me).status_code == 400
    wrong = client.post(
        f"{API}/account/two-factor", json={"current_password": "not it"}, headers=me
    )
    assert wrong.status_code == 403
    setup = client.post(
        f"{API}/account/two-factor", json={"current_password": PASSWORD}, headers=me
    )
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"] == (
        f"otpauth://totp/Phoenix:{name}?secret={secret}&issuer=Phoenix"
    )
    assert client.get(f"{API}/account/two-factor", headers=me).json()["pending"] is True

    malformed = client.post(f"{API}/account/two-factor/confirm", json={"code": "abc"}, headers=me)
    assert malformed.status_code == 422
    assert malformed.json()["errors"] == [{"field": "code", "message": "must be 6 digits"}]
    confirmed = client.post(
        f"{API}/account/two-factor/confirm", json={"code": code_for(secret)}, headers=me
    )
    assert confirmed.status_code == 200, confirmed.text
    recovery = confirmed.json()["recovery_codes"]
    assert len(recovery) == 10
    state = client.get(f"{API}/account/two-factor", headers=me).json()
    assert state == {"enabled": True, "pending": False, "recovery_codes_left": 10}
    assert client.post(f"{API}/auth/logout", headers=me).status_code == 204

    credentials = {"username": name, "password": PASSWORD}
    asked = client.post(f"{API}/auth/login", json=credentials)
    assert asked.status_code == 401
    assert asked.headers["content-type"].startswith("application/problem+json")
    assert asked.json()["code"] == "two_factor_required"
    assert "set-cookie" not in asked.headers

    code = code_for(secret, steps_ahead=1)  # this step's code was spent on confirming
    logged_in = client.post(f"{API}/auth/login", json={**credentials, "totp_code": code})
    assert logged_in.status_code == 200, logged_in.text
    assert "phoenix_session" in logged_in.headers["set-cookie"]
    session = bearer(logged_in.json()["session_token"])
    client.cookies.clear()
    assert client.get(f"{API}/account/me", headers=session).json()["user"]["username"] == name

    replayed = client.post(f"{API}/auth/login", json={**credentials, "totp_code": code})
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "two_factor_invalid"

    with_recovery = {**credentials, "recovery_code": recovery[0]}
    assert client.post(f"{API}/auth/login", json=with_recovery).status_code == 200
    client.cookies.clear()
    spent = client.post(f"{API}/auth/login", json=with_recovery)
    assert spent.status_code == 401
    assert spent.json()["code"] == "two_factor_invalid"

    disabled = client.request(
        "DELETE",
        f"{API}/account/two-factor",
        json={"current_password": PASSWORD, "code": recovery[1]},
        headers=session,
    )
    assert disabled.status_code == 204, disabled.text
    assert client.post(f"{API}/auth/login", json=credentials).status_code == 200
    client.cookies.clear()

    log = stack.log()
    assert secret not in log
    assert all(c not in log for c in recovery)


def test_bad_two_factor_requests_get_clear_problems(stack: RunningStack) -> None:
    client, name, token = new_user(stack)
    early = client.post(
        f"{API}/account/two-factor/confirm", json={"code": "123456"}, headers=bearer(token)
    )
    assert early.status_code == 409
    assert "pending" in early.json()["detail"]
    login = {"username": name, "password": PASSWORD}
    for fields, field in [
        ({"totp_code": "12345"}, "totp_code"),
        ({"recovery_code": "?"}, "recovery_code"),
        ({"totp_code": "123456", "recovery_code": "abcde-fghjk"}, "totp_code"),
    ]:
        reply = client.post(f"{API}/auth/login", json={**login, **fields})
        assert reply.status_code == 422, reply.text
        assert reply.json()["errors"][0]["field"] == field
    assert client.post(f"{API}/auth/login", json={**login, "totp_code": 123456}).status_code == 400
    # a code sent to an account without two-factor changes nothing
    assert (
        client.post(f"{API}/auth/login", json={**login, "totp_code": "123456"}).status_code == 200
    )
    client.cookies.clear()

    key = client.post(
        f"{API}/api-keys", json={"name": "ci", "scopes": ["read", "write"]}, headers=bearer(token)
    ).json()["key"]
    by_key = client.post(
        f"{API}/account/two-factor", json={"current_password": PASSWORD}, headers=bearer(key)
    )
    assert by_key.status_code == 403
