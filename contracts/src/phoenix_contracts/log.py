"""The union of every event in the log, for decoding the stream."""

from __future__ import annotations

from phoenix_contracts.health import (
    CertificateExpiring,
    MonitorFlappingChanged,
    MonitorStatusChanged,
)
from phoenix_contracts.identity import MemberAdded, OrganizationCreated, UserSignedUp
from phoenix_contracts.incidents import IncidentOpened, IncidentResolved
from phoenix_contracts.maintenance import MaintenanceEvent
from phoenix_contracts.monitors import (
    MonitorCreated,
    MonitorDeleted,
    MonitorPaused,
    MonitorResumed,
    MonitorUpdated,
)
from phoenix_contracts.notifications import (
    AlertRuleCreated,
    AlertRuleDeleted,
    ChannelCreated,
    ChannelDeleted,
    NotificationFailed,
    NotificationSent,
)

AnyEvent = (
    UserSignedUp
    | OrganizationCreated
    | MemberAdded
    | MonitorCreated
    | MonitorUpdated
    | MonitorPaused
    | MonitorResumed
    | MonitorDeleted
    | MonitorStatusChanged
    | MonitorFlappingChanged
    | CertificateExpiring
    | IncidentOpened
    | IncidentResolved
    | MaintenanceEvent
    | ChannelCreated
    | ChannelDeleted
    | AlertRuleCreated
    | AlertRuleDeleted
    | NotificationSent
    | NotificationFailed
)
