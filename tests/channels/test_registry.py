"""Every chat channel is registered under its config type."""

from __future__ import annotations

from phoenix_contracts.channels import CONFIGS
from phoenix_notifier.channels.registry import channels

from tests.channels.chat_kit import UNUSED_TRANSPORT

CHAT = ("slack", "discord", "teams", "google_chat", "mattermost", "telegram", "ntfy")


def test_the_chat_channels_are_registered_under_their_config_types() -> None:
    registered = channels(UNUSED_TRANSPORT)
    for channel_type in CHAT:
        assert channel_type in CONFIGS
        assert registered[channel_type].type == channel_type
