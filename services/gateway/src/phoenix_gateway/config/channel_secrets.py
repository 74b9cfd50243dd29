"""Channel secrets: opened to be validated, sealed before they reach an event.

The config role is the only writer of channel events, so it is the one place
a secret turns into ``v1.<ciphertext>`` (AES-GCM, bound to the organization
and the field). A spec sent back with sealed values (a PATCH that kept the
masked secrets) is opened first, so everything is validated in clear.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from phoenix_contracts.base import Rejected
from phoenix_contracts.channels import MASK, SECRETS, secret_context
from phoenix_contracts.notifications import ChannelSpec
from phoenix_platform.sealing import SealError, is_sealed, seal, unseal

NO_KEY = Rejected(
    code="unavailable",
    message="channel secrets cannot be stored: the operator has not set PHOENIX_SECRETS_KEY",
)


def opened(spec: ChannelSpec, organization_id: str, key: bytes | None) -> ChannelSpec | Rejected:
    """``spec`` with every sealed secret in clear."""
    config = dict(spec.config)
    for field in SECRETS.get(spec.type, frozenset()):
        value = config.get(field)
        if value == MASK:
            return Rejected(
                code="invalid", field=f"config.{field}", message="send the secret itself"
            )
        if not is_sealed(value):
            continue
        if key is None:
            return NO_KEY
        try:
            config[field] = unseal(key, str(value), secret_context(organization_id, field)).decode()
        except SealError:
            return Rejected(
                code="invalid", field=f"config.{field}", message="not a secret of this channel"
            )
    if key is None and any(config.get(f) for f in SECRETS.get(spec.type, frozenset())):
        return NO_KEY
    return msgspec.structs.replace(spec, config=config)


def sealer(organization_id: str, key: bytes | None) -> Callable[[ChannelSpec], ChannelSpec]:
    def seal_spec(spec: ChannelSpec) -> ChannelSpec:
        config = dict(spec.config)
        for field in SECRETS.get(spec.type, frozenset()):
            value = config.get(field)
            if value and key is not None:
                config[field] = seal(
                    key, str(value).encode(), secret_context(organization_id, field)
                )
        return msgspec.structs.replace(spec, config=config)

    return seal_spec
