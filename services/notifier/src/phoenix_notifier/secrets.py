"""Opening a channel's sealed config: the notifier is the only reader of its secrets."""

from __future__ import annotations

from typing import Any

import msgspec
from phoenix_contracts.channels import parse_config, secret_context, secrets_of
from phoenix_contracts.sealed import path_name, value_at, with_value
from phoenix_platform.sealing import SealError, is_sealed, unseal

from phoenix_notifier.channels.base import TransportError


def open_config(
    key: bytes | None, organization_id: str, channel_type: str, config: dict[str, Any]
) -> Any:
    """The typed config with its secrets opened; a config that cannot be used is a
    permanent :class:`TransportError` (retrying will not fix it). Values stored
    before they were secrets (webhook headers of older events) are used as they are."""
    opened = dict(config)
    for path in secrets_of(channel_type).paths(config):
        value = value_at(config, path)
        if not is_sealed(value):
            continue
        if key is None:
            raise TransportError(
                "the channel's secrets are sealed but PHOENIX_SECRETS_KEY is not set",
                permanent=True,
            )
        name = path_name(path)
        try:
            plain = unseal(key, str(value), secret_context(organization_id, name))
        except SealError:
            raise TransportError(
                f"cannot open the channel's {name}: was PHOENIX_SECRETS_KEY changed?",
                permanent=True,
            ) from None
        opened = with_value(opened, path, plain.decode())
    try:
        return parse_config(channel_type, opened)
    except (msgspec.ValidationError, KeyError) as exc:
        raise TransportError(f"invalid channel config: {exc}", permanent=True) from None
