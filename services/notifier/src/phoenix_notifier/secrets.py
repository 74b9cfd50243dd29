"""Opening a channel's sealed config: the notifier is the only reader of its secrets."""

from __future__ import annotations

from typing import Any

import msgspec
from phoenix_contracts.channels import SECRETS, parse_config, secret_context
from phoenix_platform.sealing import SealError, is_sealed, unseal

from phoenix_notifier.channels.base import TransportError


def open_config(
    key: bytes | None, organization_id: str, channel_type: str, config: dict[str, Any]
) -> Any:
    """The typed config with its secrets opened; a config that cannot be used is a
    permanent :class:`TransportError` (retrying will not fix it)."""
    opened = dict(config)
    for field in SECRETS.get(channel_type, frozenset()):
        value = opened.get(field)
        if not is_sealed(value):
            continue
        if key is None:
            raise TransportError(
                "the channel's secrets are sealed but PHOENIX_SECRETS_KEY is not set",
                permanent=True,
            )
        try:
            opened[field] = unseal(key, str(value), secret_context(organization_id, field)).decode()
        except SealError:
            raise TransportError(
                f"cannot open the channel's {field}: was PHOENIX_SECRETS_KEY changed?",
                permanent=True,
            ) from None
    try:
        return parse_config(channel_type, opened)
    except (msgspec.ValidationError, KeyError) as exc:
        raise TransportError(f"invalid channel config: {exc}", permanent=True) from None
