"""Every channel plug-in, by type: the one place a new channel is registered."""

from __future__ import annotations

from phoenix_platform.netguard import NetGuard

from phoenix_notifier.channels.base import Channel, HttpTransport
from phoenix_notifier.channels.discord import DiscordChannel
from phoenix_notifier.channels.email import DEFAULT_TIMEOUT, EmailChannel
from phoenix_notifier.channels.google_chat import GoogleChatChannel
from phoenix_notifier.channels.gotify import GotifyChannel
from phoenix_notifier.channels.matrix import MatrixChannel
from phoenix_notifier.channels.mattermost import MattermostChannel
from phoenix_notifier.channels.ntfy import NtfyChannel
from phoenix_notifier.channels.opsgenie import OpsgenieChannel
from phoenix_notifier.channels.pagerduty import PagerDutyChannel
from phoenix_notifier.channels.pushover import PushoverChannel
from phoenix_notifier.channels.slack import SlackChannel
from phoenix_notifier.channels.teams import TeamsChannel
from phoenix_notifier.channels.telegram import TelegramChannel
from phoenix_notifier.channels.twilio import TwilioChannel
from phoenix_notifier.channels.webhook import WebhookChannel


def channels(
    transport: HttpTransport, guard: NetGuard, *, send_timeout: float = DEFAULT_TIMEOUT
) -> dict[str, Channel]:
    plugins: list[Channel] = [
        WebhookChannel(transport),
        EmailChannel(guard, timeout=send_timeout),
        GotifyChannel(transport),
        PushoverChannel(transport),
        MatrixChannel(transport),
        PagerDutyChannel(transport),
        OpsgenieChannel(transport),
        TwilioChannel(transport),
        SlackChannel(transport),
        DiscordChannel(transport),
        TeamsChannel(transport),
        GoogleChatChannel(transport),
        MattermostChannel(transport),
        TelegramChannel(transport),
        NtfyChannel(transport),
    ]
    return {plugin.type: plugin for plugin in plugins}
