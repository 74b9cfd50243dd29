"""The incident and tag controllers, registered with the app as one group."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from phoenix_gateway.api.incidents import IncidentController
from phoenix_gateway.api.tags import MonitorTagController, TagController

TRIAGE_HANDLERS: list[ControllerRouterHandler] = [
    IncidentController,
    TagController,
    MonitorTagController,
]
