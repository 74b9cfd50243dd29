"""Every channel type a user can configure has a plug-in registered under that type."""

from __future__ import annotations

from phoenix_contracts.channels import CONFIGS, SECRETS
from phoenix_notifier.channels.registry import channels
from phoenix_platform.netguard import NetGuard

from tests.channels.chat_kit import UNUSED_TRANSPORT


def test_every_configurable_channel_type_has_its_plug_in() -> None:
    registered = channels(UNUSED_TRANSPORT, NetGuard([]))
    assert set(registered) == set(CONFIGS)
    for channel_type, plugin in registered.items():
        assert plugin.type == channel_type


def test_every_channel_type_declares_its_secrets() -> None:
    assert set(SECRETS) == set(CONFIGS)
    for channel_type, fields in SECRETS.items():
        assert fields <= set(CONFIGS[channel_type].__struct_fields__), channel_type
