"""Hostile input, on every route and parameter the API has, against the real stack.

NUL characters, lone surrogates, 1 MB strings, extreme numbers and dates, empty
and huge arrays: never a 5xx, text no database can store is refused naming its
field, and afterwards another organization's monitor still goes down and its
alert still arrives. One bad input must never silence anyone else.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import nats
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phoenix_contracts.base import Accepted, Rejected
from phoenix_contracts.identity import SignUp
from phoenix_contracts.monitors import MONITOR, CreateMonitor, MonitorSpec
from phoenix_contracts.subjects import Subjects

from tests.e2e.peers import Target, WebhookSink
from tests.e2e.stack import RunningStack
from tests.e2e.test_monitoring_flow import alert_to_webhook, sign_up_and_log_in, wait_for_status
from tests.infra import Servers
from tests.security.hostile import NUL, SURROGATE, Attempt, Document, attempts

pytestmark = pytest.mark.e2e

MONITOR_BODY = {"name": "m", "type": "http", "url": "http://127.0.0.1:9/", "interval": 86_400}


def send(client: httpx.Client, auth: dict[str, str], attempt: Attempt) -> httpx.Response:
    # Encoded here, not by httpx: its encoder refuses a lone surrogate, which a
    # hostile client sends as the JSON escape \ud800.
    content = None if attempt.body is None else json.dumps(attempt.body).encode()
    url = attempt.path + (f"?{attempt.query}" if attempt.query else "")
    headers = {**auth, "Content-Type": "application/json", **attempt.headers}
    return client.request(attempt.method.upper(), url, content=content, headers=headers)


def refused_naming(response: httpx.Response, field: str) -> bool:
    if response.status_code != 422:
        return False
    return field in [error["field"] for error in response.json().get("errors", [])]


def names(response: httpx.Response, field: str) -> bool:
    """A 400 or 422 whose errors name ``field`` (the schema's own errors say ``$.field``)."""
    if response.status_code not in (400, 422):
        return False
    errors = response.json().get("errors", [])
    return any(e["field"] == field or f"$.{field}`" in e["message"] for e in errors)


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def extreme_problem(response: httpx.Response, attempt: Attempt) -> str | None:
    """Why the answer to an extreme date or number is wrong: it must be refused naming
    the field, or kept exactly as sent (the same moment, the same number)."""
    name = attempt.extreme_field
    if name is None or response.status_code not in (200, 201, 400, 422):
        return None  # not the field's doing: not found, forbidden, throttled...
    if response.status_code >= 400:
        return None if names(response, name) else f"refused without naming {name}"
    answer = response.json() if response.content else None
    if not isinstance(answer, dict) or name not in answer:
        return None
    sent, kept = attempt.body[name], answer[name]
    same = kept == sent if not isinstance(sent, str) else _moment(kept) == _moment(sent)
    return None if same else f"{name} kept as {kept!r}"


def client_of(stack: RunningStack) -> httpx.Client:
    return httpx.Client(base_url=stack.base_url, timeout=60)


def test_a_monitor_or_organization_named_with_a_nul_is_refused_naming_the_field(
    stack: RunningStack,
) -> None:
    client = client_of(stack)
    auth = sign_up_and_log_in(client)
    for text in (NUL, SURROGATE):
        body = json.dumps({**MONITOR_BODY, "name": text}).encode()
        created = client.post("/api/v1/monitors", content=body, headers=auth)
        assert refused_naming(created, "name"), created.text
    org = client.get("/api/v1/account/me", headers=auth).json()["organization_id"]
    renamed = client.patch(f"/api/v1/organizations/{org}", json={"name": "\u0000"}, headers=auth)
    assert refused_naming(renamed, "name"), renamed.text
    headers = {
        "name": "x",
        "type": "webhook",
        "config": {"url": "http://127.0.0.1:9/", "headers": {"X-Foo": NUL}},
    }
    channel = client.post("/api/v1/notification-channels", json=headers, headers=auth)
    assert refused_naming(channel, "config.headers.X-Foo"), channel.text


def test_a_nul_in_a_query_parameter_or_cookie_is_a_422_not_a_500(stack: RunningStack) -> None:
    client = client_of(stack)
    auth = sign_up_and_log_in(client)
    assert refused_naming(client.get("/api/v1/monitors?q=%00", headers=auth), "q")
    cookie = {"Cookie": "phoenix_session=%00"}
    assert refused_naming(client.get("/api/v1/monitors", headers=cookie), "phoenix_session")
    # Read by hand, not declared: the guard sees every parameter, declared or not.
    stream = client.get("/api/v1/stream?organization=%00", headers=auth)
    assert refused_naming(stream, "organization"), stream.text


def test_a_password_with_a_nul_is_refused_cleanly(stack: RunningStack) -> None:
    client = client_of(stack)
    login = client.post(
        "/api/v1/auth/login", json={"username": "someone", "password": "pass\u0000word"}
    )
    assert refused_naming(login, "password"), login.text


def test_a_change_cannot_flood_the_checks_with_regions_or_headers(stack: RunningStack) -> None:
    client = client_of(stack)
    auth = sign_up_and_log_in(client)
    monitor = client.post("/api/v1/monitors", json=MONITOR_BODY, headers=auth).json()
    url = f"/api/v1/monitors/{monitor['id']}"
    made_up = client.patch(url, json={"regions": [f"r{n}" for n in range(2000)]}, headers=auth)
    assert made_up.status_code in (400, 422), made_up.text
    unknown = client.patch(url, json={"regions": ["default", "mars"]}, headers=auth)
    assert refused_naming(unknown, "regions"), unknown.text
    assert "mars" in unknown.text
    big = {f"X-H{n}": "v" * 8000 for n in range(40)}
    assert refused_naming(client.patch(url, json={"headers": big}, headers=auth), "headers")
    assert client.get(url, headers=auth).json()["regions"] == ["default"]


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("tls", "https://h:99999/"),
        ("tls", "https://[::1/"),
        ("http", "http://[::1/"),
        ("http", "http://h:0/"),
    ],
)
def test_a_url_no_check_could_read_is_refused_naming_it(
    stack: RunningStack, kind: str, url: str
) -> None:
    client = client_of(stack)
    auth = sign_up_and_log_in(client)
    created = client.post(
        "/api/v1/monitors", json={**MONITOR_BODY, "type": kind, "url": url}, headers=auth
    )
    assert refused_naming(created, "url"), created.text
    channel = {"name": "c", "type": "webhook", "config": {"url": url.replace("https", "http")}}
    refused = client.post("/api/v1/notification-channels", json=channel, headers=auth)
    assert refused_naming(refused, "config.url"), refused.text


async def test_commands_sent_straight_over_nats_are_refused_naming_the_field(
    servers: Servers, module_namespace: tuple[str, str], stack: RunningStack
) -> None:
    subjects = Subjects(module_namespace[0])
    nc = await nats.connect(servers.nats_url)
    try:
        create = CreateMonitor(
            organization_id=str(uuid.uuid4()), spec=MonitorSpec(name=NUL, type="push")
        )
        reply = await nc.request(
            subjects.command(MONITOR, "create"), msgspec.json.encode(create), timeout=10
        )
        rejected = msgspec.json.decode(reply.data, type=Accepted | Rejected)
        assert isinstance(rejected, Rejected)
        assert (rejected.code, rejected.field) == ("invalid", "spec.name")
        signup = msgspec.json.encode(SignUp(username="u", email="u@example.com", password="p"))
        raw = signup.replace(b'"password":"p"', b'"password":"p\\ud800"')
        reply = await nc.request(subjects.auth(SignUp.verb), raw, timeout=10)
        refused = msgspec.json.decode(reply.data, type=Rejected)
        assert (refused.code, refused.field) == ("invalid", "password")
    finally:
        await nc.close()


NAMES = st.text(
    alphabet=st.characters(codec=None, categories=None, exclude_categories=()), max_size=40
) | st.sampled_from(["\u0000", "\ud800", "x\udfff", "a\u0000b"])


def test_any_monitor_name_is_stored_exactly_or_refused(stack: RunningStack) -> None:
    client = client_of(stack)
    auth = sign_up_and_log_in(client)

    @given(name=NAMES)
    @settings(
        max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def exercise(name: str) -> None:
        body = json.dumps({**MONITOR_BODY, "name": name}).encode()
        created = client.post("/api/v1/monitors", content=body, headers=auth)
        assert created.status_code < 500, created.text
        if created.status_code == 201:
            assert created.json()["name"] == name
            client.delete(f"/api/v1/monitors/{created.json()['id']}", headers=auth)
        elif "\u0000" in name or any(0xD800 <= ord(c) <= 0xDFFF for c in name):
            assert refused_naming(created, "name"), created.text

    exercise()


def assert_listed_soon(client: httpx.Client, auth: dict[str, str], monitor_id: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = client.get("/api/v1/monitors?limit=500", headers=auth).json()["items"]
        if monitor_id in [m["id"] for m in listed]:
            return
        time.sleep(0.5)
    raise AssertionError(f"monitor {monitor_id} never appeared in GET /monitors")


def attacker_resources(
    client: httpx.Client, auth: dict[str, str]
) -> tuple[dict[str, str], dict[str, Any]]:
    """One of each resource the attacker owns: path-parameter ids, and a valid body per schema."""
    ids: dict[str, str] = {}
    me = client.get("/api/v1/account/me", headers=auth).json()
    ids["organization_id"] = me["organization_id"]
    ids["monitor_id"] = client.post("/api/v1/monitors", json=MONITOR_BODY, headers=auth).json()[
        "id"
    ]
    push = client.post(
        "/api/v1/monitors", json={"name": "beat", "type": "push", "interval": 86_400}, headers=auth
    )
    ids["token"] = push.json()["push_token"]
    channel = {"name": "c", "type": "webhook", "config": {"url": "http://127.0.0.1:9/hook"}}
    ids["channel_id"] = client.post(
        "/api/v1/notification-channels", json=channel, headers=auth
    ).json()["id"]
    rule = {"name": "r", "event": "down", "notification_channel_ids": [ids["channel_id"]]}
    ids["rule_id"] = client.post("/api/v1/alert-rules", json=rule, headers=auth).json()["id"]
    ids["window_id"] = client.post(
        "/api/v1/maintenance-windows", json={"title": "w"}, headers=auth
    ).json()["id"]
    ids["tag_id"] = client.post(
        "/api/v1/tags", json={"name": "t", "color": "#ff0000"}, headers=auth
    ).json()["id"]
    slug = "p-" + uuid.uuid4().hex[:8]
    page = client.post("/api/v1/status-pages", json={"slug": slug, "name": "p"}, headers=auth)
    ids["page_id"], ids["slug"] = page.json()["id"], slug
    wrong = "not the password"
    bases: dict[str, Any] = {
        "MonitorCreate": MONITOR_BODY,
        "MonitorUpdate": {"name": "m"},
        "ChannelCreate": channel,
        "ChannelUpdate": {"name": "c", "config": channel["config"]},
        "AlertRuleCreate": rule,
        "LoginRequest": {"username": "nobody-" + uuid.uuid4().hex[:6], "password": wrong},
        "SignupRequest": {
            "username": "h" + uuid.uuid4().hex[:8],
            "email": "h@example.com",
            "password": "a long passphrase",
        },
        "PasswordChange": {"current_password": wrong, "new_password": "another long passphrase"},
        "ProfileChange": {"current_password": wrong, "email": "me@example.com"},
        "TwoFactorStart": {"current_password": wrong},
        "TwoFactorDisable": {"current_password": wrong, "code": "000000"},
        "InvitationCreate": {"email": "i@example.com"},
        "MaintenanceWindowCreate": {"title": "w"},
        "TagCreate": {"name": "t2", "color": "#00ff00"},
        "StatusPageCreate": {"slug": "q-" + uuid.uuid4().hex[:8], "name": "p"},
    }
    return ids, bases


def test_no_hostile_input_anywhere_fails_the_server_or_silences_another_organization(
    stack: RunningStack, target: Target, sink: WebhookSink
) -> None:
    victim, attacker = client_of(stack), client_of(stack)
    victim_auth = sign_up_and_log_in(victim)
    alert_to_webhook(victim, victim_auth, sink.url + "hook")
    watched = {"name": "shop", "type": "http", "url": target.url, "interval": 1, "timeout": 0.8}
    monitor = victim.post("/api/v1/monitors", json=watched, headers=victim_auth).json()
    wait_for_status(victim, victim_auth, monitor["id"], "up", timeout=30)

    auth = sign_up_and_log_in(attacker)
    ids, bases = attacker_resources(attacker, auth)
    doc = Document(attacker.get("/schema/openapi.json").json())
    failures: list[str] = []
    routes: set[str] = set()
    for attempt in attempts(doc, ids, bases):
        response = send(attacker, auth, attempt)
        routes.add(attempt.route)
        body = str(attempt.body)[:120]
        where = f"{attempt.method.upper()} {attempt.route} {attempt.query[:40]} {body!r}"
        if response.status_code >= 500:
            failures.append(f"{where} -> {response.status_code} {response.text[:200]}")
        elif attempt.refused_field and not refused_naming(response, attempt.refused_field):
            failures.append(
                f"{where} -> {response.status_code}, not a 422 naming {attempt.refused_field}"
            )
        elif problem := extreme_problem(response, attempt):
            failures.append(f"{where} -> {response.status_code}: {problem}")

    # Whatever was stored, every list still reads, and every projection still moves:
    # a new user can sign up and log in (auth's), a new monitor shows (the gateway's).
    for method, route, _ in doc.operations():
        if method == "get" and "{" not in route and not route.endswith("/stream"):
            listed = attacker.get(route, headers=auth)
            if listed.status_code >= 500:
                failures.append(f"GET {route} after the sweep -> {listed.status_code}")
    sign_up_and_log_in(client_of(stack))
    fresh = attacker.post("/api/v1/monitors", json={**MONITOR_BODY, "name": "after"}, headers=auth)
    assert fresh.status_code == 201, fresh.text
    assert_listed_soon(attacker, auth, fresh.json()["id"])

    # Whatever the attacker sent, the victim's monitor is still judged and alerted on.
    target.status = 500
    wait_for_status(victim, victim_auth, monitor["id"], "down", timeout=60)
    assert "down" in [body["event"] for body in sink.wait_for(1, timeout=30)]
    assert len(routes) >= 40, sorted(routes)
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(failures[:40])
