"""JSON Schema export of every contract, checked in under ``contracts/schema/``.

``python -m phoenix_contracts.schema <dir>`` writes one file per family; a test
fails when the checked-in files drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec

from phoenix_contracts.base import Accepted, Rejected
from phoenix_contracts.checks import CheckCompleted, CheckJob
from phoenix_contracts.identity import (
    ApiKeyList,
    ApiKeyView,
    Authenticate,
    ChangeEmail,
    ChangePassword,
    CreateApiKey,
    Done,
    EmailChanged,
    IdentityEvent,
    ListApiKeys,
    ListSessions,
    LoggedIn,
    LogIn,
    LogOut,
    Principal,
    RevokeApiKey,
    RevokeSession,
    SessionList,
    SignedUp,
    SignUp,
)
from phoenix_contracts.incidents import IncidentCommand
from phoenix_contracts.log import AnyEvent
from phoenix_contracts.maintenance import MaintenanceCommand
from phoenix_contracts.monitors import MonitorCommand
from phoenix_contracts.notifications import (
    AlertRuleCommand,
    ChannelCommand,
    ChannelTested,
    NotificationJob,
    TestChannel,
)
from phoenix_contracts.organizations import (
    OrganizationEvent,
    OrganizationReply,
    OrganizationRequest,
)
from phoenix_contracts.statuspages import StatusPageCommand
from phoenix_contracts.tags import TagCommand
from phoenix_contracts.twofactor import (
    ConfirmTwoFactor,
    DisableTwoFactor,
    GetTwoFactor,
    RecoveryCodes,
    StartTwoFactor,
    TwoFactorEnrolment,
    TwoFactorEvent,
    TwoFactorStatus,
)

FAMILIES: dict[str, Any] = {
    "events": AnyEvent,
    "identity-events": IdentityEvent,
    "two-factor-events": TwoFactorEvent,
    "auth-requests": SignUp
    | LogIn
    | Authenticate
    | LogOut
    | ListSessions
    | RevokeSession
    | ChangePassword
    | ChangeEmail
    | CreateApiKey
    | RevokeApiKey
    | ListApiKeys
    | StartTwoFactor
    | ConfirmTwoFactor
    | DisableTwoFactor
    | GetTwoFactor,
    "auth-replies": SignedUp
    | LoggedIn
    | Principal
    | SessionList
    | ApiKeyView
    | ApiKeyList
    | EmailChanged
    | TwoFactorEnrolment
    | RecoveryCodes
    | TwoFactorStatus
    | Done
    | Rejected,
    "organization-events": OrganizationEvent,
    "organization-requests": OrganizationRequest,
    "organization-replies": OrganizationReply | Done | Rejected,
    "command-replies": Accepted | Rejected,
    "monitor-commands": MonitorCommand,
    "notification-commands": ChannelCommand | AlertRuleCommand | TestChannel,
    "channel-test-replies": ChannelTested | Rejected,
    "maintenance-commands": MaintenanceCommand,
    "incident-commands": IncidentCommand,
    "tag-commands": TagCommand,
    "status-page-commands": StatusPageCommand,
    "check-jobs": CheckJob,
    "check-results": CheckCompleted,
    "notification-jobs": NotificationJob,
}


def render() -> dict[str, bytes]:
    """File name → formatted JSON Schema document."""
    return {
        f"{name}.json": msgspec.json.format(
            msgspec.json.encode(msgspec.json.schema(kind)), indent=2
        )
        + b"\n"
        for name, kind in FAMILIES.items()
    }


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render().items():
        path = directory / name
        path.write_bytes(content)
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("contracts/schema")
    for path in write(target):
        print(path)
