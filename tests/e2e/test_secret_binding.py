"""Secrets are write-only and stay with where they go, on the real stack.

A member may edit channels and monitors but must never get at their secrets:
sending the mask back keeps a secret only while nothing that decides where it
is sent changes; credential headers are masked like any secret and never sit
in clear in the event log, yet still reach the target.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.peers import Listener, Target, WebhookSink
from tests.e2e.stack import RunningStack
from tests.e2e.test_organizations import User, invite
from tests.infra import Servers

pytestmark = pytest.mark.e2e
MASK = "********"
CHANNELS = "/api/v1/notification-channels"


class Team:
    """An owner who set the secrets up and a member of the same organization."""

    def __init__(self, stack: RunningStack) -> None:
        self.owner = User(stack)
        created = self.owner.call("POST", "/api/v1/organizations", json={"name": "Ops"})
        assert created.status_code == 201, created.text
        self.org = created.json()["id"]
        self.member = User(stack)
        token = invite(self.owner, self.org, self.member.email, "member", stack)
        accepted = self.member.call("POST", "/api/v1/invitations/accept", json={"token": token})
        assert accepted.status_code == 200, accepted.text

    def owner_call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.owner.call(method, path, org=self.org, **kwargs)

    def member_call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.member.call(method, path, org=self.org, **kwargs)

    def channel(self, kind: str, config: dict[str, Any]) -> str:
        made = self.owner_call(
            "POST", CHANNELS, json={"name": kind, "type": kind, "config": config}
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])


@pytest.fixture(scope="module")
def team(stack: RunningStack) -> Team:
    return Team(stack)


@pytest.fixture
def attacker() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def secret(stack: RunningStack, prefix: str) -> str:
    value = f"{prefix}-{uuid.uuid4().hex}"
    stack.secrets.append(value)  # none may reach the stack's log either
    return value


def refused_field(answer: Any) -> str:
    assert answer.status_code == 422, answer.text
    return str(answer.json()["errors"][0]["field"])


@pytest.mark.parametrize(
    ("kind", "config", "moved"),
    [
        (
            "telegram",
            {"bot_token": "{secret}", "chat_id": "42", "api_url": "{legit}"},
            {"api_url": "{attacker}"},
        ),
        (
            "email",
            {
                "host": "127.0.0.1",
                "port": "{legit_port}",
                "security": "none",
                "username": "ops",
                "password": "{secret}",
                "from_address": "ops@example.com",
                "to": ["oncall@example.com"],
            },
            {"port": "{attacker_port}"},
        ),
        (
            "webhook",
            {"url": "{legit}", "headers": {"Authorization": "Bearer {secret}"}},
            {"url": "{attacker}"},
        ),
    ],
    ids=["telegram-api-url", "email-port", "webhook-url"],
)
def test_a_member_cannot_send_a_kept_secret_to_a_server_of_their_own(
    stack: RunningStack,
    team: Team,
    sink: WebhookSink,
    attacker: Listener,
    kind: str,
    config: dict[str, Any],
    moved: dict[str, Any],
) -> None:
    stored = secret(stack, kind)
    values: dict[str, Any] = {
        "secret": stored,
        "legit": sink.url,
        "legit_port": int(sink.url.rsplit(":", 1)[1].strip("/")),
        "attacker": attacker.url,
        "attacker_port": attacker.port,
    }
    channel_id = team.channel(kind, fill(config, values))
    path = f"{CHANNELS}/{channel_id}"
    shown = team.member_call("GET", path).json()["config"]
    assert stored not in str(shown)
    stolen = team.member_call("PATCH", path, json={"config": {**shown, **fill(moved, values)}})
    field = refused_field(stolen)
    assert field in {"config.bot_token", "config.password", "config.headers.Authorization"}
    assert f"config.{next(iter(moved))} changed" in stolen.json()["errors"][0]["message"]
    # The stored channel did not move: its test message goes where the owner said.
    assert team.member_call("POST", f"{path}/test").status_code == 200
    assert attacker.connections == 0


def test_the_secret_sent_again_may_go_to_the_new_address(
    stack: RunningStack, team: Team, sink: WebhookSink
) -> None:
    channel_id = team.channel("telegram", {"bot_token": secret(stack, "t"), "chat_id": "1"})
    path = f"{CHANNELS}/{channel_id}"
    token = secret(stack, "fresh")
    moved = team.member_call(
        "PATCH",
        path,
        json={"config": {"bot_token": token, "chat_id": "1", "api_url": sink.url}},
    )
    assert moved.status_code == 200, moved.text
    team.member_call("POST", f"{path}/test")
    assert any(token in p for p in wait_for_paths(sink, 1))


def test_a_rename_keeps_the_secrets_and_delivery_still_works(
    stack: RunningStack, team: Team, sink: WebhookSink
) -> None:
    bearer = "Bearer " + secret(stack, "hook")
    channel_id = team.channel(
        "webhook", {"url": sink.url + "hook", "headers": {"Authorization": bearer, "X-Team": "a"}}
    )
    path = f"{CHANNELS}/{channel_id}"
    shown = team.member_call("GET", path).json()
    assert shown["config"]["headers"] == {"Authorization": MASK, "X-Team": "a"}
    renamed = team.member_call("PATCH", path, json={"name": "renamed"})
    assert renamed.status_code == 200, renamed.text
    retemplated = team.member_call(
        "PATCH", path, json={"config": {**shown["config"], "title_template": "{{status}}"}}
    )
    assert retemplated.status_code == 200, retemplated.text
    assert retemplated.json()["config"]["headers"]["Authorization"] == MASK
    answer = team.member_call("POST", f"{path}/test").json()
    assert answer["ok"] is True, answer
    assert sink.wait_for(1, timeout=10)
    assert sink.headers[-1]["Authorization"] == bearer


def test_a_monitor_sends_its_secret_header_but_never_shows_it_or_lets_it_move(
    stack: RunningStack, team: Team, target: Target, attacker: Listener
) -> None:
    bearer = "Bearer " + secret(stack, "monitor")
    made = team.owner_call(
        "POST",
        "/api/v1/monitors",
        json={
            "name": "api",
            "type": "http",
            "url": target.url + "health",
            "interval": 2,
            "timeout": 1,
            "headers": {"Authorization": bearer, "X-Trace": "visible"},
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["headers"] == {"Authorization": MASK, "X-Trace": "visible"}
    path = f"/api/v1/monitors/{made.json()['id']}"
    assert team.member_call("GET", path).json()["headers"]["Authorization"] == MASK
    wait_until(lambda: any(h.get("Authorization") == bearer for h in target.headers), 30)

    assert refused_field(team.member_call("PATCH", path, json={"url": attacker.url})) == (
        "headers.Authorization"
    )
    renamed = team.member_call("PATCH", path, json={"name": "api v2"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["headers"]["Authorization"] == MASK
    seen = len(target.headers)
    wait_until(lambda: len(target.headers) > seen, 30)
    assert target.headers[-1]["Authorization"] == bearer
    assert attacker.connections == 0


def test_the_event_log_holds_no_secret_in_clear(
    stack: RunningStack,
    team: Team,
    servers: Servers,
    module_namespace: tuple[str, str],
    tmp_path: Path,
) -> None:
    channel_secret = "Bearer " + secret(stack, "logged-hook")
    monitor_secret = secret(stack, "logged-monitor")
    hook = {"url": "http://127.0.0.1:9/", "headers": {"X-Api-Key": channel_secret}}
    team.channel("webhook", hook)
    made = team.owner_call(
        "POST",
        "/api/v1/monitors",
        json={
            "name": "logged",
            "type": "http",
            "url": "http://127.0.0.1:9/",
            "headers": {"Cookie": f"session={monitor_secret}"},
        },
    )
    assert made.status_code == 201, made.text
    dump = tmp_path / "events.jsonl"
    exported = subprocess.run(
        [sys.executable, "-m", "phoenix_cli", "events", "export", "-o", str(dump)],
        env={
            **os.environ,
            "PHOENIX_NATS_URL": servers.nats_url,
            "PHOENIX_NAMESPACE": module_namespace[0],
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    log = dump.read_text()
    assert made.json()["id"] in log  # the monitor's events are there…
    assert channel_secret.split()[1] not in log  # …but not its secrets
    assert monitor_secret not in log


def fill(template: Any, values: dict[str, Any]) -> Any:
    """``template`` with ``"{name}"`` placeholders replaced (a whole placeholder keeps
    its value's type: ports stay numbers)."""
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if isinstance(template, str):
        whole = template.strip("{}")
        if template == "{" + whole + "}" and whole in values:
            return values[whole]
        return template.format(**values)
    return template


def wait_until(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def wait_for_paths(sink: WebhookSink, count: int) -> list[str]:
    wait_until(lambda: len(sink.paths) >= count, 10)
    return list(sink.paths)
