"""Organizations, roles, invitations and per-request organization choice, on the real stack."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.stack import RunningStack

pytestmark = pytest.mark.e2e
PASSWORD = "a long passphrase"
ORG_HEADER = "X-Phoenix-Organization"
WRITES = ("post", "put", "patch", "delete")
# Routes any signed-in user may write whatever their role: their own account,
# keys and memberships (the auth service checks roles there), and the public ones.
ACCOUNT_LEVEL = re.compile(
    r"^/api/v1/(auth|account|api-keys|organizations|invitations|push|public)(/|$)"
)


class User:
    def __init__(self, stack: RunningStack, invitation: str = "", email: str = "") -> None:
        self.client = httpx.Client(base_url=stack.base_url, timeout=20)
        self.name = "u" + uuid.uuid4().hex[:10]
        self.email = email or f"{self.name}@example.com"
        body = {"username": self.name, "email": self.email, "password": PASSWORD}
        if invitation:
            body["invitation_token"] = invitation
        signup = self.client.post("/api/v1/auth/signup", json=body)
        assert signup.status_code == 201, signup.text
        self.id = signup.json()["id"]
        login = self.client.post(
            "/api/v1/auth/login", json={"username": self.name, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.token = login.json()["session_token"]
        self.home = login.json()["organization_id"]
        self.client.cookies.clear()
        stack.secrets.append(self.token)

    def call(
        self, method: str, path: str, org: str = "", token: str = "", **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if org:
            headers[ORG_HEADER] = org
        return self.client.request(method, path, headers=headers, **kwargs)


def invite(owner: User, org: str, email: str, role: str, stack: RunningStack) -> str:
    made = owner.call(
        "POST", f"/api/v1/organizations/{org}/invitations", json={"email": email, "role": role}
    )
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    assert token.startswith("phxinv_")
    stack.secrets.append(token)
    return token


def monitor_body(name: str = "site") -> dict[str, Any]:
    return {"name": name, "type": "http", "url": "http://127.0.0.1:9/", "interval": 60}


@pytest.fixture(scope="module")
def team(stack: RunningStack) -> dict[str, Any]:
    """An organization with an owner, and a member and a viewer who joined by invitation."""
    owner = User(stack)
    created = owner.call("POST", "/api/v1/organizations", json={"name": "Acme <Ops>"})
    assert created.status_code == 201, created.text
    org = created.json()["id"]
    assert created.json()["role"] == "owner"
    member = User(stack)
    accepted = member.call(
        "POST",
        "/api/v1/invitations/accept",
        json={"token": invite(owner, org, member.email, "member", stack)},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "member"
    viewer_email = f"v{uuid.uuid4().hex[:8]}@example.com"
    viewer = User(stack, invite(owner, org, viewer_email, "viewer", stack), viewer_email)
    return {"org": org, "owner": owner, "member": member, "viewer": viewer}


def test_the_header_picks_the_organization_a_request_acts_in(
    stack: RunningStack, team: dict[str, Any]
) -> None:
    owner, org = team["owner"], team["org"]
    mine = owner.call("POST", "/api/v1/monitors", json=monitor_body("personal"))
    shared = owner.call("POST", "/api/v1/monitors", org=org, json=monitor_body("shared"))
    assert mine.status_code == shared.status_code == 201
    names_home = {m["name"] for m in owner.call("GET", "/api/v1/monitors").json()["items"]}
    names_team = {m["name"] for m in owner.call("GET", "/api/v1/monitors", org=org).json()["items"]}
    assert names_home == {"personal"}
    assert names_team == {"shared"}
    me = owner.call("GET", "/api/v1/account/me", org=org).json()
    assert me["organization_id"] == org
    assert me["role"] == "owner"
    listed = owner.call("GET", "/api/v1/organizations").json()
    assert {o["id"] for o in listed} == {owner.home, org}
    # The member sees the team's monitor, not the owner's personal one.
    member = team["member"]
    seen = member.call("GET", f"/api/v1/monitors/{shared.json()['id']}", org=org)
    assert seen.status_code == 200
    assert member.call("GET", f"/api/v1/monitors/{mine.json()['id']}", org=org).status_code == 404


def test_strangers_and_bad_headers_are_refused(stack: RunningStack, team: dict[str, Any]) -> None:
    stranger = User(stack)
    refused = stranger.call("GET", "/api/v1/monitors", org=team["org"])
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert stranger.call("GET", f"/api/v1/organizations/{team['org']}/members").status_code == 404
    bad = stranger.call("GET", "/api/v1/monitors", org="not-a-uuid")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"].lower() == ORG_HEADER.lower()


def test_an_invitation_is_bound_to_its_address_and_used_once(
    stack: RunningStack, team: dict[str, Any]
) -> None:
    owner, org = team["owner"], team["org"]
    token = invite(owner, org, "someone-else@example.com", "viewer", stack)
    intruder = User(stack)
    wrong = intruder.call("POST", "/api/v1/invitations/accept", json={"token": token})
    assert wrong.status_code == 403
    pending = owner.call("GET", f"/api/v1/organizations/{org}/invitations").json()
    entry = next(i for i in pending if i["email"] == "someone-else@example.com")
    assert entry["token"] is None  # shown once, at creation only
    gone = owner.call("DELETE", f"/api/v1/organizations/{org}/invitations/{entry['id']}")
    assert gone.status_code == 204
    late = User(stack, email="someone-else@example.com")
    assert late.call("POST", "/api/v1/invitations/accept", json={"token": token}).status_code == 404
    assert (
        intruder.call("POST", "/api/v1/invitations/accept", json={"token": "phxinv_x"}).status_code
        == 404
    )


def write_routes(stack: RunningStack) -> list[tuple[str, str]]:
    document = httpx.get(f"{stack.base_url}/schema/openapi.json", timeout=20).json()
    routes = []
    for path, operations in document["paths"].items():
        if ACCOUNT_LEVEL.match(path) or not path.startswith("/api/v1/"):
            continue  # the account's own routes, and public pages (/status/{slug})
        for method in operations:
            if method in WRITES:
                concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
                routes.append((method.upper(), concrete))
    return routes


def test_a_viewer_or_read_only_key_cannot_write_anywhere(
    stack: RunningStack, team: dict[str, Any]
) -> None:
    owner, viewer, org = team["owner"], team["viewer"], team["org"]
    key = owner.call(
        "POST", "/api/v1/api-keys", org=org, json={"name": "ro", "scopes": ["read"]}
    ).json()["key"]
    stack.secrets.append(key)
    routes = write_routes(stack)
    assert len(routes) >= 20, routes  # monitors, channels, rules, incidents, tags, ...
    assert any(path.startswith("/api/v1/monitors") for _, path in routes)
    for method, path in routes:
        for who, token in (("viewer", viewer.token), ("read-only key", key)):
            response = owner.call(method, path, org=org, token=token, json={})
            assert response.status_code == 403, f"{who}: {method} {path} -> {response.status_code}"
    # Reading works, and the viewer still owns their account.
    assert viewer.call("GET", "/api/v1/monitors", org=org).status_code == 200
    assert owner.call("GET", "/api/v1/monitors", org=org, token=key).status_code == 200
    viewer_key = viewer.call(
        "POST", "/api/v1/api-keys", org=org, json={"name": "mine", "scopes": ["read"]}
    )
    assert viewer_key.status_code == 201, viewer_key.text
    stack.secrets.append(viewer_key.json()["key"])
    too_much = viewer.call(
        "POST", "/api/v1/api-keys", org=org, json={"name": "x", "scopes": ["read", "write"]}
    )
    assert too_much.status_code == 422


def test_only_owners_and_admins_manage_the_team(stack: RunningStack, team: dict[str, Any]) -> None:
    owner, member, viewer, org = team["owner"], team["member"], team["viewer"], team["org"]
    members_path = f"/api/v1/organizations/{org}/members"
    assert (
        member.call("PATCH", f"{members_path}/{viewer.id}", json={"role": "admin"}).status_code
        == 403
    )
    assert (
        member.call(
            "POST", f"/api/v1/organizations/{org}/invitations", json={"email": "a@b.co"}
        ).status_code
        == 403
    )
    assert (
        member.call("PATCH", f"/api/v1/organizations/{org}", json={"name": "Mine"}).status_code
        == 403
    )
    roster = {m["user_id"]: m["role"] for m in member.call("GET", members_path).json()}
    assert roster == {owner.id: "owner", member.id: "member", viewer.id: "viewer"}
    last = owner.call("DELETE", f"{members_path}/{owner.id}")
    assert last.status_code == 409  # the last owner cannot leave


def test_a_role_change_and_a_removal_apply_at_once(
    stack: RunningStack, team: dict[str, Any]
) -> None:
    owner, org = team["owner"], team["org"]
    email = f"w{uuid.uuid4().hex[:8]}@example.com"
    worker = User(stack, invite(owner, org, email, "member", stack), email)
    made = worker.call("POST", "/api/v1/monitors", org=org, json=monitor_body("worker's"))
    assert made.status_code == 201, made.text
    path = f"/api/v1/organizations/{org}/members/{worker.id}"
    demoted = owner.call("PATCH", path, json={"role": "viewer"})
    assert demoted.status_code == 200
    assert demoted.json()["role"] == "viewer"
    started = time.monotonic()
    while worker.call("POST", "/api/v1/monitors", org=org, json=monitor_body()).status_code != 403:
        assert time.monotonic() - started < 1.0, "the old role outlived the change by > 1 s"
        time.sleep(0.05)
    assert owner.call("DELETE", path).status_code == 204
    assert worker.call("GET", "/api/v1/monitors", org=org).status_code == 403
    # Invited straight into the team, they now belong nowhere: signing in again
    # gives them an organization of their own rather than locking them out.
    assert worker.call("GET", "/api/v1/monitors").status_code == 403
    login = worker.client.post(
        "/api/v1/auth/login", json={"username": worker.name, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    fresh = login.json()["session_token"]
    stack.secrets.append(fresh)
    assert login.json()["organization_id"] != org
    assert worker.call("GET", "/api/v1/monitors", token=fresh).json()["items"] == []


def test_an_api_key_stays_in_its_organization(stack: RunningStack, team: dict[str, Any]) -> None:
    owner, org = team["owner"], team["org"]
    key = owner.call(
        "POST", "/api/v1/api-keys", org=org, json={"name": "ci", "scopes": ["read", "write"]}
    ).json()["key"]
    stack.secrets.append(key)
    assert owner.call("GET", "/api/v1/monitors", token=key).status_code == 200
    assert owner.call("GET", "/api/v1/monitors", org=owner.home, token=key).status_code == 403
    listed = owner.call("GET", "/api/v1/organizations", token=key).json()
    assert [o["id"] for o in listed] == [org]
    created = owner.call("POST", "/api/v1/organizations", token=key, json={"name": "x"})
    assert created.status_code == 403


@pytest.mark.parametrize(
    "extra", [{"organization_id": str(uuid.uuid4())}, {"owner_id": "x"}, {"role": "owner"}]
)
def test_mass_assignment_is_refused(
    stack: RunningStack, team: dict[str, Any], extra: dict[str, str]
) -> None:
    owner, org = team["owner"], team["org"]
    before = len(owner.call("GET", "/api/v1/monitors", org=org).json()["items"])
    for path, body in (
        ("/api/v1/monitors", monitor_body("sneaky")),
        ("/api/v1/tags", {"name": "sneaky"}),
        ("/api/v1/organizations", {"name": "sneaky"}),
        (f"/api/v1/organizations/{org}/invitations", {"email": "s@example.com"}),
        ("/api/v1/api-keys", {"name": "sneaky"}),
    ):
        if "role" in extra and path.endswith("/invitations"):
            continue  # an invitation's role is a real field (capped by the inviter's role)
        response = owner.call("POST", path, org=org, json={**body, **extra})
        assert response.status_code in (400, 422), f"{path}: {response.status_code}"
        assert response.headers["content-type"].startswith("application/problem+json")
    after = len(owner.call("GET", "/api/v1/monitors", org=org).json()["items"])
    assert after == before
