"""Every channel plug-in, by type: the one place a new channel is registered."""

from __future__ import annotations

from phoenix_notifier.channels.base import Channel, HttpTransport
from phoenix_notifier.channels.discord import DiscordChannel
from phoenix_notifier.channels.google_chat import GoogleChatChannel
from phoenix_notifier.channels.mattermost import MattermostChannel
from phoenix_notifier.channels.ntfy import NtfyChannel
from phoenix_notifier.channels.slack import SlackChannel
from phoenix_notifier.channels.teams import TeamsChannel
from phoenix_notifier.channels.telegram import TelegramChannel
from phoenix_notifier.channels.webhook import WebhookChannel


def channels(transport: HttpTransport) -> dict[str, Channel]:
    plugins: list[Channel] = [
        WebhookChannel(transport),
        SlackChannel(transport),
        DiscordChannel(transport),
        TeamsChannel(transport),
        GoogleChatChannel(transport),
        MattermostChannel(transport),
        TelegramChannel(transport),
        NtfyChannel(transport),
    ]
    return {plugin.type: plugin for plugin in plugins}
