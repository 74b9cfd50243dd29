"""Encoding of contracts on the wire: msgspec JSON, decoders built once."""

from __future__ import annotations

from typing import Any, TypeVar, get_args

import msgspec
from phoenix_contracts.base import Event
from phoenix_contracts.log import AnyEvent
from phoenix_contracts.upcasters import UPCASTERS, upcast

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_event_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(AnyEvent)


_raw_decoder = msgspec.json.Decoder(dict[str, Any])


def _current_versions() -> dict[str, int]:
    versions = {}
    for member in get_args(AnyEvent):
        info = msgspec.inspect.type_info(member)
        assert isinstance(info, msgspec.inspect.StructType)
        default = next(f.default for f in info.fields if f.name == "schema_version")
        versions[str(info.tag)] = int(default)
    return versions


CURRENT_VERSIONS = _current_versions()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def decode_event(data: bytes) -> Event:
    """An event from the log, lifted to its type's current version if it is older.

    The common case (a current event) is one typed decode; only an event that is
    older, or no longer fits its current type, goes through the upcasters.
    """
    try:
        event: Event = _event_decoder.decode(data)
    except msgspec.ValidationError:
        return _lifted(data)
    if event.schema_version < CURRENT_VERSIONS.get(event_type(event), 1):
        return _lifted(data)
    return event


def _lifted(data: bytes) -> Event:
    raw = upcast(_raw_decoder.decode(data), CURRENT_VERSIONS, UPCASTERS)
    lifted: Event = msgspec.convert(raw, AnyEvent)
    return lifted


def event_type(event: Event) -> str:
    # The struct's own config, not ``msgspec.inspect``: inspecting walks the whole
    # type (about 2 ms) and this runs for every event decoded and appended.
    return str(type(event).__struct_config__.tag)


def decoder(kind: type[T] | Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)
