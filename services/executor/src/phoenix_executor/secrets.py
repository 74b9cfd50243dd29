"""Opening a monitor's sealed credentials (secret headers, basic auth password) just
before its check runs: they leave the event log and the job queue sealed only."""

from __future__ import annotations

import msgspec
from phoenix_contracts.monitors import MONITOR_SECRETS, MonitorSpec, monitor_secret_context
from phoenix_contracts.sealed import path_name, value_at, with_value
from phoenix_platform.sealing import SealError, is_sealed, unseal


class UnopenedSecret(Exception):
    """A sealed value this executor cannot open; the message names it, never its value."""


def opened_spec(
    spec: MonitorSpec, organization_id: str, monitor_id: str, key: bytes | None
) -> MonitorSpec:
    """``spec`` with its sealed secrets in clear; values older events stored in clear
    are used as they are."""
    # The hot path: most monitors have nothing sealed, and then nothing is copied.
    if not is_sealed(spec.basic_auth_password) and not any(
        is_sealed(v) for v in spec.headers.values()
    ):
        return spec
    config = msgspec.to_builtins(spec)
    sealed = [p for p in MONITOR_SECRETS.paths(config) if is_sealed(value_at(config, p))]
    for path in sealed:
        name = path_name(path)
        if key is None:
            raise UnopenedSecret(f"the monitor's {name} is sealed but PHOENIX_SECRETS_KEY is unset")
        context = monitor_secret_context(organization_id, monitor_id, name)
        try:
            plain = unseal(key, value_at(config, path), context)
        except SealError:
            raise UnopenedSecret(
                f"cannot open the monitor's {name}: was PHOENIX_SECRETS_KEY changed?"
            ) from None
        config = with_value(config, path, plain.decode())
    return msgspec.convert(config, MonitorSpec)
