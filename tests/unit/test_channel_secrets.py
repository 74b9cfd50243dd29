"""Channel secrets: sealed before an event, opened only with the key and in the right place."""

from __future__ import annotations

import pytest
from phoenix_contracts.base import Rejected
from phoenix_contracts.notifications import ChannelSpec
from phoenix_gateway.config.channel_secrets import opened, sealer
from phoenix_notifier.channels.base import TransportError
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
