"""What every channel plug-in is: validate its config, send one notification."""

from __future__ import annotations

from typing import Any, Protocol

from phoenix_contracts.notifications import NotificationJob


class TransportError(Exception):
    """Sending failed. ``permanent`` errors are not retried (bad config, 4xx)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    type: str

    def validate(self, config: dict[str, Any]) -> str | None:
        """A problem with the config, or None."""

    async def send(self, job: NotificationJob, config: dict[str, Any]) -> None:
        """Deliver ``job``; raise :class:`TransportError` on failure."""
