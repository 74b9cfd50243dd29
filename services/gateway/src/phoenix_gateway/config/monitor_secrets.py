"""Monitor secrets (credential headers, ``basic_auth_password``): sealed before they
reach an event, and a kept one bound to where it goes.

A monitor's spec arrives with its kept secrets exactly as stored (the gateway
swapped each ``********`` for the stored value). Such a secret may stay only
while nothing that decides where it is sent changed; new values are sealed for
this monitor alone. Values stored in clear by older events count as kept too,
and are sealed on their next write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from phoenix_contracts.base import Rejected
from phoenix_contracts.monitors import MONITOR_SECRETS, MonitorSpec, monitor_secret_context
from phoenix_contracts.sealed import MASK, path_name, value_at, with_value
from phoenix_platform.sealing import is_sealed, seal

NO_KEY = Rejected(
    code="unavailable",
    message="monitor credentials (secret headers, basic auth password) cannot be stored:"
    " the operator has not set PHOENIX_SECRETS_KEY",
)

# (stored spec or None for a new monitor, spec as sent) → the spec to store, or why not
Secure = Callable[[MonitorSpec | None, MonitorSpec], MonitorSpec | Rejected]


def securer(organization_id: str, monitor_id: str, key: bytes | None) -> Secure:
    def secure(stored: MonitorSpec | None, spec: MonitorSpec) -> MonitorSpec | Rejected:
        sent = msgspec.to_builtins(spec)
        before: dict[str, Any] = msgspec.to_builtins(stored) if stored is not None else {}
        if (problem := moved_secret(sent, before)) is not None:
            return problem
        fresh = [p for p in MONITOR_SECRETS.paths(sent) if not is_sealed(value_at(sent, p))]
        if not fresh:
            return spec
        if key is None:
            return NO_KEY
        for path in fresh:
            context = monitor_secret_context(organization_id, monitor_id, path_name(path))
            sent = with_value(sent, path, seal(key, str(value_at(sent, path)).encode(), context))
        return msgspec.convert(sent, MonitorSpec)

    return secure


def moved_secret(sent: dict[str, Any], stored: dict[str, Any]) -> Rejected | None:
    """Why ``sent`` may not replace ``stored``: a mask or a sealed value that is not
    this monitor's stored one, or a kept secret whose destination changed."""
    for path in MONITOR_SECRETS.paths(sent):
        value = value_at(sent, path)
        if value == MASK or (is_sealed(value) and value != value_at(stored, path)):
            return Rejected(code="invalid", field=path_name(path), message="send the secret itself")
    problem = MONITOR_SECRETS.moved_secret(sent, stored)
    if problem is None:
        return None
    field, message = problem
    return Rejected(code="invalid", field=field, message=message)
