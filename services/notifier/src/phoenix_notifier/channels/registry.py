"""Every channel plug-in, by type: the one place a new channel is registered."""

from __future__ import annotations

from phoenix_notifier.channels.base import Channel, HttpTransport
from phoenix_notifier.channels.webhook import WebhookChannel


def channels(transport: HttpTransport) -> dict[str, Channel]:
    plugins: list[Channel] = [
        WebhookChannel(transport),
    ]
    return {plugin.type: plugin for plugin in plugins}
