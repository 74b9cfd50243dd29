"""Channel and alert-rule aggregates (``phoenix_gateway.config.notifications``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from phoenix_contracts.base import Rejected
from phoenix_contracts.notifications import (
    AlertRuleCreated,
    AlertRuleDeleted,
    AlertRuleSpec,
    AlertRuleUpdated,
    ChannelCreated,
    ChannelDeleted,
    ChannelSpec,
    ChannelUpdated,
    CreateAlertRule,
    CreateChannel,
    DeleteAlertRule,
    DeleteChannel,
    UpdateAlertRule,
    UpdateChannel,
)
from phoenix_gateway.config.notifications import (
    Context,
    Owned,
    decide_alert_rule,
    decide_channel,
    evolve,
)

NOW = datetime(2024, 1, 1, tzinfo=UTC)
ORG = "org-1"


def ctx(*known: str, aggregate_id: str = "agg-1", event_id: str = "event-1") -> Context:
    return Context(
        aggregate_id=aggregate_id, event_id=event_id, now=NOW, known_channel_ids=frozenset(known)
    )


def webhook(**config: str | int | bool) -> CreateChannel:
    return CreateChannel(
        organization_id=ORG, spec=ChannelSpec(name="ops hook", type="webhook", config=config)
    )


def rejected(decision: object) -> Rejected:
    assert isinstance(decision, Rejected), decision
    return decision


# --- channels -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_webhook_channel_with_an_https_url_and_a_write_method_is_created(method: str) -> None:
    command = webhook(url="https://hooks.example.com/phoenix", method=method)
    decision = decide_channel(Owned(), command, ctx())
    assert decision == [
        ChannelCreated(
            event_id="event-1",
            aggregate_id="agg-1",
            aggregate_version=1,
            occurred_at=NOW,
            organization_id=ORG,
            spec=command.spec,
        )
    ]


def test_a_webhook_method_defaults_to_post() -> None:
    decision = decide_channel(Owned(), webhook(url="http://hooks.example.com/"), ctx())
    assert isinstance(decision, list)
    assert [type(event) for event in decision] == [ChannelCreated]


BAD_CHANNELS = [
    ("missing-url", {}, "config.url"),
    ("empty-url", {"url": ""}, "config.url"),
    ("ftp-url", {"url": "ftp://hooks.example.com/"}, "config.url"),
    ("file-url", {"url": "file:///etc/passwd"}, "config.url"),
    ("schemeless-url", {"url": "hooks.example.com/x"}, "config.url"),
    ("url-not-a-string", {"url": 42}, "config.url"),
    ("url-without-host", {"url": "https:///path"}, "config.url"),
    # Read whole where it enters: these raised inside the config role (a 503).
    ("unclosed-ipv6-bracket", {"url": "http://[::1/"}, "config.url"),
    ("port-out-of-range", {"url": "https://hooks.example.com:99999/"}, "config.url"),
    ("space-in-url", {"url": "https://hooks.example.com/a b"}, "config.url"),
    ("get-method", {"url": "https://h.example.com/", "method": "GET"}, "config.method"),
    ("delete-method", {"url": "https://h.example.com/", "method": "DELETE"}, "config.method"),
    ("made-up-method", {"url": "https://h.example.com/", "method": "BREW"}, "config.method"),
    ("method-not-a-string", {"url": "https://h.example.com/", "method": 1}, "config.method"),
]


@pytest.mark.parametrize(
    ("config", "field"), [row[1:] for row in BAD_CHANNELS], ids=[row[0] for row in BAD_CHANNELS]
)
def test_a_bad_webhook_config_is_rejected_naming_the_field(
    config: dict[str, str | int | bool], field: str
) -> None:
    rejection = rejected(decide_channel(Owned(), webhook(**config), ctx()))
    assert (rejection.code, rejection.field) == ("invalid", field)


def test_each_channel_type_checks_its_own_fields() -> None:
    email = CreateChannel(
        organization_id=ORG,
        spec=ChannelSpec(name="mail", type="email", config={"to": "ops@example.com"}),
    )
    rejection = rejected(decide_channel(Owned(), email, ctx()))
    assert rejection.field in ("config.host", "config.to")  # a host is required, `to` is a list
    slack = CreateChannel(
        organization_id=ORG,
        spec=ChannelSpec(
            name="chat",
            type="slack",
            config={"webhook_url": "https://hooks.example.com/x", "text_template": "{{x.y}}"},
        ),
    )
    assert rejected(decide_channel(Owned(), slack, ctx())).field == "config.text_template"
    good = CreateChannel(
        organization_id=ORG,
        spec=ChannelSpec(name="chat", type="slack", config={"webhook_url": "https://h.example/x"}),
    )
    assert isinstance(decide_channel(Owned(), good, ctx()), list)


def existing_channel(organization_id: str = ORG) -> Owned:
    decision = decide_channel(
        Owned(),
        CreateChannel(
            organization_id=organization_id,
            spec=ChannelSpec(name="hook", type="webhook", config={"url": "https://h.example/"}),
        ),
        ctx(),
    )
    assert isinstance(decision, list)
    return evolve(Owned(), decision[0])


def test_deleting_an_own_channel_produces_a_deleted_event_at_the_next_version() -> None:
    state = existing_channel()
    decision = decide_channel(
        state, DeleteChannel(organization_id=ORG, channel_id="agg-1"), ctx(event_id="event-2")
    )
    assert isinstance(decision, list)
    assert [type(event) for event in decision] == [ChannelDeleted]
    assert decision[0].aggregate_version == 2
    assert evolve(state, decision[0]).deleted


@pytest.mark.parametrize(
    ("state", "organization_id"),
    [
        pytest.param(Owned(), ORG, id="never-existed"),
        pytest.param(existing_channel("org-2"), ORG, id="other-organizations-channel"),
        pytest.param(
            Owned(exists=True, deleted=True, organization_id=ORG, version=2),
            ORG,
            id="already-deleted",
        ),
    ],
)
def test_deleting_a_channel_you_cannot_see_is_not_found(state: Owned, organization_id: str) -> None:
    command = DeleteChannel(organization_id=organization_id, channel_id="agg-1")
    assert rejected(decide_channel(state, command, ctx())).code == "not_found"


# --- alert rules ----------------------------------------------------------------------


def alert_rule(**changes: object) -> CreateAlertRule:
    fields: dict[str, object] = {
        "name": "page on down",
        "event": "down",
        "notification_channel_ids": ["channel-1"],
    }
    fields.update(changes)
    return CreateAlertRule(organization_id=ORG, spec=AlertRuleSpec(**fields))  # type: ignore[arg-type]


VALID_RULES = [
    ("scope-all", {}),
    ("two-known-channels", {"notification_channel_ids": ["channel-1", "channel-2"]}),
    ("scope-monitors", {"scope": "monitors", "monitor_ids": ["monitor-1"]}),
    ("scope-tags", {"scope": "tags", "tag_ids": ["prod"]}),
    ("recovery-rule", {"event": "recovered"}),
]


@pytest.mark.parametrize(
    "changes", [row[1] for row in VALID_RULES], ids=[row[0] for row in VALID_RULES]
)
def test_a_rule_with_known_channels_and_a_complete_scope_is_created(
    changes: dict[str, object],
) -> None:
    command = alert_rule(**changes)
    decision = decide_alert_rule(Owned(), command, ctx("channel-1", "channel-2"))
    assert isinstance(decision, list)
    assert [type(event) for event in decision] == [AlertRuleCreated]
    assert isinstance(decision[0], AlertRuleCreated)
    assert decision[0].spec == command.spec
    assert decision[0].aggregate_version == 1


BAD_RULES = [
    ("no-channel", {"notification_channel_ids": []}, "notification_channel_ids"),
    ("unknown-channel", {"notification_channel_ids": ["channel-x"]}, "notification_channel_ids"),
    (
        "one-unknown-among-known",
        {"notification_channel_ids": ["channel-1", "channel-x"]},
        "notification_channel_ids",
    ),
    ("monitor-scope-without-monitors", {"scope": "monitors"}, "monitor_ids"),
    ("tag-scope-without-tags", {"scope": "tags"}, "tag_ids"),
    # Sent straight over NATS: the notifier would add it to a moment (overflow)
    # and store it in an int4 column.
    (
        "resend-interval-of-centuries",
        {"resend_interval_seconds": 10**12},
        "resend_interval_seconds",
    ),
    ("resend-interval-negative", {"resend_interval_seconds": -1}, "resend_interval_seconds"),
]


@pytest.mark.parametrize(
    ("changes", "field"), [row[1:] for row in BAD_RULES], ids=[row[0] for row in BAD_RULES]
)
def test_an_incomplete_rule_is_rejected_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    rejection = rejected(decide_alert_rule(Owned(), alert_rule(**changes), ctx("channel-1")))
    assert (rejection.code, rejection.field) == ("invalid", field)


def test_the_unknown_channel_rejection_names_only_the_unknown_channels() -> None:
    command = alert_rule(notification_channel_ids=["channel-1", "channel-x", "channel-y"])
    rejection = rejected(decide_alert_rule(Owned(), command, ctx("channel-1")))
    assert "channel-x" in rejection.message
    assert "channel-y" in rejection.message
    assert "channel-1" not in rejection.message


def test_a_channel_of_another_organization_counts_as_unknown() -> None:
    # The caller passes only its own organization's channel ids.
    rejection = rejected(decide_alert_rule(Owned(), alert_rule(), ctx()))
    assert rejection.field == "notification_channel_ids"


def test_deleting_an_own_rule_produces_a_deleted_event() -> None:
    decision = decide_alert_rule(Owned(), alert_rule(), ctx("channel-1"))
    assert isinstance(decision, list)
    state = evolve(Owned(), decision[0])
    deletion = decide_alert_rule(
        state, DeleteAlertRule(organization_id=ORG, alert_rule_id="agg-1"), ctx()
    )
    assert isinstance(deletion, list)
    assert [type(event) for event in deletion] == [AlertRuleDeleted]
    state = evolve(state, deletion[0])
    again = decide_alert_rule(
        state, DeleteAlertRule(organization_id=ORG, alert_rule_id="agg-1"), ctx()
    )
    assert rejected(again).code == "not_found"


def test_another_organizations_rule_is_not_found() -> None:
    state = Owned(exists=True, organization_id="org-2", version=1)
    command = DeleteAlertRule(organization_id=ORG, alert_rule_id="agg-1")
    assert rejected(decide_alert_rule(state, command, ctx())).code == "not_found"


# --- updates ----------------------------------------------------------------------------


def created_channel() -> Owned:
    events = decide_channel(Owned(), webhook(url="https://hooks.example.com/a"), ctx())
    assert isinstance(events, list)
    return evolve(Owned(), events[0])


def test_a_channel_update_carries_the_whole_new_spec() -> None:
    spec = ChannelSpec(name="renamed", type="webhook", config={"url": "https://b.example.com/"})
    update = UpdateChannel(organization_id=ORG, channel_id="agg-1", spec=spec)
    events = decide_channel(created_channel(), update, ctx(event_id="event-2"))
    assert isinstance(events, list)
    assert isinstance(events[0], ChannelUpdated)
    assert events[0].spec == spec
    assert events[0].aggregate_version == 2
    assert evolve(created_channel(), events[0]).version == 2


def test_a_channel_update_is_validated_and_cannot_change_the_type_or_owner() -> None:
    bad_url = ChannelSpec(name="x", type="webhook", config={"url": "ftp://b.example.com/"})
    update = UpdateChannel(organization_id=ORG, channel_id="agg-1", spec=bad_url)
    assert rejected(decide_channel(created_channel(), update, ctx())).field == "config.url"
    email = ChannelSpec(name="x", type="email", config={"to": "a@example.com"})
    update = UpdateChannel(organization_id=ORG, channel_id="agg-1", spec=email)
    assert rejected(decide_channel(created_channel(), update, ctx())).field == "type"
    foreign = UpdateChannel(organization_id="org-2", channel_id="agg-1", spec=bad_url)
    assert rejected(decide_channel(created_channel(), foreign, ctx())).code == "not_found"


def test_an_alert_rule_update_is_validated_like_a_creation() -> None:
    spec = AlertRuleSpec(name="pager", event="down", notification_channel_ids=["ch-1"])
    events = decide_alert_rule(
        Owned(), CreateAlertRule(organization_id=ORG, spec=spec), ctx("ch-1")
    )
    assert isinstance(events, list)
    state = evolve(Owned(), events[0])
    moved = AlertRuleSpec(name="pager", event="recovered", notification_channel_ids=["ch-9"])
    update = UpdateAlertRule(organization_id=ORG, alert_rule_id="agg-1", spec=moved)
    assert rejected(decide_alert_rule(state, update, ctx("ch-1"))).field == (
        "notification_channel_ids"
    )
    updated = decide_alert_rule(state, update, ctx("ch-1", "ch-9"))
    assert isinstance(updated, list)
    assert isinstance(updated[0], AlertRuleUpdated)
    assert updated[0].spec.event == "recovered"
