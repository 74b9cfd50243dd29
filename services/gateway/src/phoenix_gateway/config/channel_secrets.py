"""Channel secrets: opened to be validated, sealed before they reach an event.

The config role is the only writer of channel events, so it is the one place
a secret turns into ``v1.<ciphertext>`` (AES-GCM, bound to the organization
and the secret's path). A spec sent back with sealed values (a PATCH that kept
the masked secrets) is checked against the stored config first — a kept secret
is bound to where it goes — and then opened, so everything is validated in clear.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from phoenix_contracts.base import Rejected
from phoenix_contracts.channels import MASK, secret_context, secrets_of
from phoenix_contracts.notifications import ChannelSpec
from phoenix_contracts.sealed import path_name, value_at, with_value
from phoenix_platform.sealing import SealError, is_sealed, seal, unseal

NO_KEY = Rejected(
    code="unavailable",
    message="channel secrets cannot be stored: the operator has not set PHOENIX_SECRETS_KEY",
)


def _config_field(name: str) -> str:
    return f"config.{name}"


def moved_secret(spec: ChannelSpec, stored: Mapping[str, Any]) -> Rejected | None:
    """Why ``spec`` (as sent, kept secrets still sealed) may not replace the ``stored``
    config: a sealed value that is not this channel's, or a kept secret whose
    destination changed. A new channel has nothing stored."""
    secrets = secrets_of(spec.type)
    for path in secrets.paths(spec.config):
        value = value_at(spec.config, path)
        if is_sealed(value) and value != value_at(stored, path):
            return _resend(path, "send the secret itself")
    problem = secrets.moved_secret(spec.config, stored, _config_field)
    if problem is None:
        return None
    field, message = problem
    return Rejected(code="invalid", field=field, message=message)


def opened(spec: ChannelSpec, organization_id: str, key: bytes | None) -> ChannelSpec | Rejected:
    """``spec`` with every sealed secret in clear."""
    config = dict(spec.config)
    paths = secrets_of(spec.type).paths(config)
    for path in paths:
        value = value_at(config, path)
        if value == MASK:
            return _resend(path, "send the secret itself")
        if not is_sealed(value):
            continue
        if key is None:
            return NO_KEY
        try:
            plain = unseal(key, str(value), secret_context(organization_id, path_name(path)))
        except SealError:
            return _resend(path, "not a secret of this channel")
        config = with_value(config, path, plain.decode())
    if key is None and paths:
        return NO_KEY
    return msgspec.structs.replace(spec, config=config)


def sealer(organization_id: str, key: bytes | None) -> Callable[[ChannelSpec], ChannelSpec]:
    def seal_spec(spec: ChannelSpec) -> ChannelSpec:
        config = dict(spec.config)
        if key is None:
            return spec
        for path in secrets_of(spec.type).paths(config):
            context = secret_context(organization_id, path_name(path))
            sealed = seal(key, str(value_at(config, path)).encode(), context)
            config = with_value(config, path, sealed)
        return msgspec.structs.replace(spec, config=config)

    return seal_spec


def _resend(path: tuple[str, ...], message: str) -> Rejected:
    return Rejected(code="invalid", field=_config_field(path_name(path)), message=message)
