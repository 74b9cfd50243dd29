"""The union of every event in the log, for decoding the stream."""

from __future__ import annotations

from phoenix_contracts.health import (
    CertificateExpiring,
    MonitorFlappingChanged,
    MonitorStatusChanged,
)
from phoenix_contracts.identity import IdentityEvent
from phoenix_contracts.incidents import IncidentEvent
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
    AlertRuleUpdated,
    ChannelCreated,
    ChannelDeleted,
    ChannelUpdated,
    DeliveryEvent,
)
from phoenix_contracts.organizations import OrganizationEvent
from phoenix_contracts.statuspages import StatusPageEvent
from phoenix_contracts.tags import TagEvent
from phoenix_contracts.twofactor import TwoFactorEvent

AnyEvent = (
    IdentityEvent
    | OrganizationEvent
    | MonitorCreated
    | MonitorUpdated
    | MonitorPaused
    | MonitorResumed
    | MonitorDeleted
    | MonitorStatusChanged
    | MonitorFlappingChanged
    | CertificateExpiring
    | IncidentEvent
    | MaintenanceEvent
    | ChannelCreated
    | ChannelUpdated
    | ChannelDeleted
    | AlertRuleCreated
    | AlertRuleUpdated
    | AlertRuleDeleted
    | DeliveryEvent
    | TagEvent
    | TwoFactorEvent
    | StatusPageEvent
)
