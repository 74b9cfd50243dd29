"""Write-only secrets in a config: which values they are, how they are shown, and
where a kept one may go.

A secret is sealed before it reaches an event, shown as ``MASK`` in every API
answer, and kept when ``MASK`` is sent back. A kept secret is bound to its
destination: a change to any field that decides where the secret is sent (a URL,
a host, a port, a TLS mode, a user name…) demands the secret again, or anyone
who may edit the config could send the stored secret to a server of their own.

Secrets are named by *paths*: ``("bot_token",)`` for a field, ``("headers",
"Authorization")`` for one entry of a header map. One definition of which
header names carry credentials serves webhook channels and monitors alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

MASK = "********"

SECRET_HEADER_NAMES = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"}
)
# Any header whose name contains one of these (any case) is a secret too.
SECRET_HEADER_WORDS = ("token", "secret", "key", "password", "passwd", "auth", "cookie", "session")

SecretPath = tuple[str, ...]


def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_HEADER_NAMES or any(word in lowered for word in SECRET_HEADER_WORDS)


def path_name(path: SecretPath) -> str:
    return ".".join(path)


def value_at(config: Mapping[str, Any], path: SecretPath) -> Any:
    value: Any = config
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def with_value(config: Mapping[str, Any], path: SecretPath, value: Any) -> dict[str, Any]:
    """A copy of ``config`` with ``value`` at ``path`` (copies only the maps on the way)."""
    head, *rest = path
    inner = config.get(head)
    return {
        **config,
        head: with_value(inner if isinstance(inner, Mapping) else {}, tuple(rest), value)
        if rest
        else value,
    }


def defaults_of(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """Each field's default, so that "left out" and "sent as the default" compare equal."""
    found: dict[str, Any] = {}
    for field in msgspec.structs.fields(struct):
        if field.default is not msgspec.NODEFAULT:
            found[field.name] = field.default
        elif field.default_factory is not msgspec.NODEFAULT:
            found[field.name] = field.default_factory()
    return found


class Secrets(msgspec.Struct, frozen=True, kw_only=True):
    """Where a config keeps its secrets and what decides where they are sent.

    ``free`` lists the fields that may change while a secret is kept (a message
    template, a chat id); every other field, known or not, is a destination:
    an unclassified field fails closed.
    """

    fields: frozenset[str] = frozenset()  # whole fields that are secrets
    header_maps: frozenset[str] = frozenset()  # name → value maps; secret names are secrets
    free: frozenset[str] = frozenset()
    defaults: dict[str, Any] = msgspec.field(default_factory=dict)

    def paths(self, config: Mapping[str, Any]) -> list[SecretPath]:
        """Every secret of ``config`` that has a value."""
        found: list[SecretPath] = [(f,) for f in sorted(self.fields) if config.get(f)]
        for name in sorted(self.header_maps):
            headers = config.get(name)
            if isinstance(headers, Mapping):
                found += [(name, h) for h in headers if is_secret_header(h) and headers[h]]
        return found

    def masked(self, config: Mapping[str, Any]) -> dict[str, Any]:
        shown = dict(config)
        for path in self.paths(config):
            shown = with_value(shown, path, MASK)
        return shown

    def kept(self, sent: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
        """``sent`` with every ``MASK`` at a secret's place replaced by the stored value;
        a mask with nothing stored behind it stays, to be refused."""
        merged = dict(sent)
        for path in self.paths(sent):
            if value_at(sent, path) == MASK and (stored_value := value_at(stored, path)):
                merged = with_value(merged, path, stored_value)
        return merged

    def destination(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The parts of ``config`` that decide where its secrets go: every field that is
        not free, header maps without their secret entries (names in lower case)."""
        where: dict[str, Any] = {}
        for field in (set(config) | set(self.defaults)) - self.free:
            value = config.get(field, self.defaults.get(field))
            if field in self.header_maps and isinstance(value, Mapping):
                value = {h.lower(): v for h, v in value.items() if not is_secret_header(h)}
            where[field] = value
        return where

    def moved_secret(
        self, sent: Mapping[str, Any], stored: Mapping[str, Any], name: Callable[[str], str] = str
    ) -> tuple[str, str] | None:
        """(secret, why) when ``sent`` keeps a stored secret (the very same stored
        value) but changes where it goes; None when it may be written."""
        kept = [p for p in self.paths(sent) if value_at(sent, p) == value_at(stored, p)]
        if not kept:
            return None
        before, after = self.destination(stored), self.destination(sent)
        moved = sorted(f for f in set(before) | set(after) if before.get(f) != after.get(f))
        if not moved:
            return None
        secret = name(path_name(kept[0]))
        return secret, f"{secret} must be sent again because {name(moved[0])} changed"
