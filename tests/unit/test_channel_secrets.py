"""Channel and monitor secrets: sealed before an event, opened only with the key and in
the right place, and a kept secret bound to where it goes."""

from __future__ import annotations

from typing import Any, cast

import msgspec
import pytest
from phoenix_contracts import monitors
from phoenix_contracts.base import Rejected
from phoenix_contracts.channels import (
    CONFIGS,
    CONTENT,
    DESTINATIONS,
    SECRETS,
    TEMPLATES,
    ChannelType,
    secrets_of,
)
from phoenix_contracts.monitors import MonitorSpec
from phoenix_contracts.notifications import ChannelSpec
from phoenix_contracts.sealed import is_secret_header
from phoenix_executor.secrets import UnopenedSecret, opened_spec
from phoenix_gateway.config.channel_secrets import moved_secret, opened, sealer
from phoenix_gateway.config.monitor_secrets import securer
from phoenix_notifier.channels.base import TransportError
from phoenix_notifier.channels.webhook import WebhookChannel
from phoenix_notifier.secrets import open_config
from phoenix_platform.sealing import is_sealed, new_key, parse_key

KEY = parse_key(new_key())
SPEC = ChannelSpec(
    name="pager",
    type="pagerduty",
    config={"routing_key": "R0ut1ngKey", "api_url": "https://events.example.com"},
)


def test_a_sealed_spec_hides_only_the_secret_fields_and_the_notifier_opens_them() -> None:
    sealed = sealer("org-1", KEY)(SPEC)
    assert is_sealed(sealed.config["routing_key"])
    assert "R0ut1ngKey" not in str(sealed.config)
    assert sealed.config["api_url"] == "https://events.example.com"
    config = open_config(KEY, "org-1", "pagerduty", sealed.config)
    assert config.routing_key == "R0ut1ngKey"


def test_a_sealed_secret_copied_into_another_organization_does_not_open() -> None:
    sealed = sealer("org-1", KEY)(SPEC)
    refused = opened(sealed, "org-2", KEY)
    assert isinstance(refused, Rejected)
    assert refused.field == "config.routing_key"
    with pytest.raises(TransportError) as error:
        open_config(KEY, "org-2", "pagerduty", sealed.config)
    assert error.value.permanent
    assert "R0ut1ngKey" not in str(error.value)


def test_a_patch_that_kept_the_sealed_value_is_opened_for_validation() -> None:
    sealed = sealer("org-1", KEY)(SPEC)
    plain = opened(sealed, "org-1", KEY)
    assert isinstance(plain, ChannelSpec)
    assert plain.config["routing_key"] == "R0ut1ngKey"


def test_the_mask_itself_is_not_a_secret() -> None:
    masked = ChannelSpec(name="p", type="pagerduty", config={"routing_key": "********"})
    refused = opened(masked, "org-1", KEY)
    assert isinstance(refused, Rejected)
    assert refused.field == "config.routing_key"


def test_without_a_key_secrets_are_refused_but_secretless_channels_work() -> None:
    refused = opened(SPEC, "org-1", None)
    assert isinstance(refused, Rejected)
    assert refused.code == "unavailable"
    assert "PHOENIX_SECRETS_KEY" in refused.message
    plain = ChannelSpec(name="hook", type="webhook", config={"url": "https://h.example.com/"})
    assert opened(plain, "org-1", None) == plain


# --- a kept secret is bound to where it goes ---------------------------------------

SEALED = "v1.c3RvcmVkLXNlYWxlZC12YWx1ZQ"  # what a kept secret looks like once stored


def kept_and_moved() -> list[tuple[str, str, str]]:
    """(type, secret, destination) for every secret of every type and every other
    field that decides where it goes."""
    cases = []
    for kind, fields in SECRETS.items():
        for field in sorted(fields):
            cases += [(kind, field, d) for d in sorted(DESTINATIONS[kind] - {field})]
    return cases


@pytest.mark.parametrize(("kind", "secret", "destination"), kept_and_moved())
def test_a_kept_secret_must_be_sent_again_when_its_destination_changes(
    kind: str, secret: str, destination: str
) -> None:
    stored = {secret: SEALED, destination: "https://ours.example.com"}
    sent = ChannelSpec(
        name="c",
        type=cast(ChannelType, kind),
        config={secret: SEALED, destination: "https://theirs.example.com"},
    )
    refused = moved_secret(sent, stored)
    assert isinstance(refused, Rejected)
    assert refused.field == f"config.{secret}"
    assert refused.message == (
        f"config.{secret} must be sent again because config.{destination} changed"
    )
    fresh = msgspec.structs.replace(sent, config={**sent.config, secret: "a new one"})
    assert moved_secret(fresh, stored) is None


def test_a_field_left_out_is_compared_as_its_default() -> None:
    stored = {"bot_token": SEALED, "chat_id": "1", "api_url": "https://api.telegram.org"}
    same = ChannelSpec(name="t", type="telegram", config={"bot_token": SEALED, "chat_id": "2"})
    assert moved_secret(same, stored) is None  # the chat is not where the token goes
    moved = ChannelSpec(name="t", type="telegram", config={"bot_token": SEALED, "chat_id": "1"})
    assert moved_secret(moved, {**stored, "api_url": "https://bots.example.com"}) is not None


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"security": "none"}, True),
        ({"username": "someone-else"}, True),
        ({"host": "smtp.elsewhere.example.com"}, True),
        ({"to": ["other@example.com"], "text_template": "{{status}}"}, False),
    ],
)
def test_an_email_password_stays_with_its_server_mode_and_user(
    change: dict[str, Any], refused: bool
) -> None:
    stored = {"host": "smtp.example.com", "username": "ops", "password": SEALED, "to": ["a@b.co"]}
    sent = ChannelSpec(name="e", type="email", config={**stored, **change})
    assert (moved_secret(sent, stored) is not None) is refused


def test_a_sealed_value_that_is_not_the_stored_one_is_refused() -> None:
    sealed = sealer("org-1", KEY)(SPEC)
    copied = ChannelSpec(name="p", type="pagerduty", config=dict(sealed.config))
    refused = moved_secret(copied, {"routing_key": "v1.another-channels-secret"})
    assert isinstance(refused, Rejected)
    assert refused.field == "config.routing_key"
    assert moved_secret(copied, {}) is not None  # a new channel keeps nothing


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_every_config_field_is_classified_and_unknown_ones_count_as_destinations(
    kind: str,
) -> None:
    fields = set(CONFIGS[kind].__struct_fields__)
    classified = SECRETS[kind] | DESTINATIONS[kind] | CONTENT.get(kind, frozenset()) | TEMPLATES
    assert fields == classified
    assert "new_field" in secrets_of(kind).destination({"new_field": 1})


def test_every_monitor_field_is_classified() -> None:
    fields = set(MonitorSpec.__struct_fields__)
    assert fields == monitors.DESTINATIONS | monitors.CONTENT | monitors.SECRET_FIELDS
    assert not monitors.DESTINATIONS & monitors.CONTENT


# --- credential headers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("proxy-authorization", True),
        ("Cookie", True),
        ("X-API-Key", True),
        ("X-Auth-Token", True),
        ("X-Hub-Secret", True),
        ("X-Db-Password", True),
        ("Private-Token", True),
        ("X-Team", False),
        ("Content-Type", False),
        ("Host", False),
    ],
)
def test_headers_carrying_credentials_are_secrets(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret


HOOK = ChannelSpec(
    name="hook",
    type="webhook",
    config={
        "url": "https://hooks.example.com/x",
        "headers": {"Authorization": "Bearer h00k", "X-Team": "ops"},
    },
)


def test_a_webhooks_credential_headers_are_sealed_masked_and_opened() -> None:
    sealed = sealer("org-1", KEY)(HOOK)
    assert is_sealed(sealed.config["headers"]["Authorization"])
    assert sealed.config["headers"]["X-Team"] == "ops"
    assert "h00k" not in str(sealed.config)
    assert secrets_of("webhook").masked(sealed.config)["headers"] == {
        "Authorization": "********",
        "X-Team": "ops",
    }
    assert open_config(KEY, "org-1", "webhook", sealed.config).headers["Authorization"] == (
        "Bearer h00k"
    )
    plain = opened(sealed, "org-1", KEY)
    assert isinstance(plain, ChannelSpec)
    assert plain.config == HOOK.config


def test_webhook_headers_stored_in_clear_by_older_events_still_work() -> None:
    assert open_config(KEY, "org-1", "webhook", HOOK.config).headers == HOOK.config["headers"]
    masked = secrets_of("webhook").masked(HOOK.config)
    kept = secrets_of("webhook").kept(masked, HOOK.config)
    assert kept == HOOK.config
    moved = ChannelSpec(name="h", type="webhook", config={**kept, "url": "https://evil.example"})
    refused = moved_secret(moved, HOOK.config)
    assert isinstance(refused, Rejected)
    assert refused.field == "config.headers.Authorization"


def test_a_changed_plain_header_moves_the_secret_headers_too() -> None:
    stored = sealer("org-1", KEY)(HOOK).config
    sent = {**stored, "headers": {**stored["headers"], "Host": "evil.example"}}
    refused = moved_secret(ChannelSpec(name="h", type="webhook", config=sent), stored)
    assert isinstance(refused, Rejected)
    assert refused.message.endswith("config.headers changed")


def test_an_error_quoting_a_credential_header_does_not_carry_it() -> None:
    config = open_config(KEY, "org-1", "webhook", HOOK.config)
    assert "Bearer h00k" in WebhookChannel(transport=None).secrets(config)  # type: ignore[arg-type]


# --- monitors -----------------------------------------------------------------------

MONITOR = MonitorSpec(
    name="api",
    type="http",
    url="https://api.example.com/health",
    headers={"Authorization": "Bearer m0n", "Accept": "text/plain"},
    basic_auth_user="ops",
    basic_auth_password="b4sic",
)


def test_a_monitors_credentials_are_sealed_for_that_monitor_and_opened_by_the_executor() -> None:
    sealed = securer("org-1", "mon-1", KEY)(None, MONITOR)
    assert isinstance(sealed, MonitorSpec)
    assert is_sealed(sealed.headers["Authorization"])
    assert is_sealed(sealed.basic_auth_password)
    assert sealed.headers["Accept"] == "text/plain"
    assert "m0n" not in msgspec.json.encode(sealed).decode()
    assert opened_spec(sealed, "org-1", "mon-1", KEY) == MONITOR
    with pytest.raises(UnopenedSecret, match=r"cannot open the monitor.s") as error:
        opened_spec(sealed, "org-1", "mon-2", KEY)  # copied onto another monitor
    assert "m0n" not in str(error.value)
    assert opened_spec(MONITOR, "org-1", "mon-1", None) is MONITOR  # older events: in clear


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"url": "https://evil.example.com/"}, True),
        ({"ignore_tls_errors": True}, True),
        ({"basic_auth_user": "root"}, True),
        ({"name": "renamed", "interval": 30, "regions": ["eu"]}, False),
    ],
)
def test_a_monitors_kept_credentials_stay_with_its_target(
    change: dict[str, Any], refused: bool
) -> None:
    stored = securer("org-1", "mon-1", KEY)(None, MONITOR)
    assert isinstance(stored, MonitorSpec)
    sent = msgspec.structs.replace(stored, **change)
    answer = securer("org-1", "mon-1", KEY)(stored, sent)
    assert isinstance(answer, Rejected) is refused
    if isinstance(answer, Rejected):
        assert answer.field in {"headers.Authorization", "basic_auth_password"}
        assert "must be sent again" in answer.message


def test_a_monitor_with_credentials_needs_the_key_and_the_mask_is_no_credential() -> None:
    refused = securer("org-1", "mon-1", None)(None, MONITOR)
    assert isinstance(refused, Rejected)
    assert refused.code == "unavailable"
    plain = msgspec.structs.replace(MONITOR, headers={"Accept": "*/*"}, basic_auth_password=None)
    assert securer("org-1", "mon-1", None)(None, plain) == plain
    masked = msgspec.structs.replace(plain, headers={"X-Api-Key": "********"})
    mask = securer("org-1", "mon-1", KEY)(None, masked)
    assert isinstance(mask, Rejected)
    assert mask.field == "headers.X-Api-Key"


def test_a_monitors_credentials_stored_in_clear_by_older_events_are_bound_and_then_sealed() -> None:
    secure = securer("org-1", "mon-1", KEY)
    moved = secure(MONITOR, msgspec.structs.replace(MONITOR, url="https://evil.example.com/"))
    assert isinstance(moved, Rejected)
    renamed = secure(MONITOR, msgspec.structs.replace(MONITOR, name="api v2"))
    assert isinstance(renamed, MonitorSpec)
    assert is_sealed(renamed.headers["Authorization"])
    assert opened_spec(renamed, "org-1", "mon-1", KEY).headers == MONITOR.headers
