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


class _Header(msgspec.Struct):
    type: str = ""
    schema_version: int = 1


_header_decoder = msgspec.json.Decoder(_Header)
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
    """An event from the log, lifted to its type's current version if it is older."""
    header = _header_decoder.decode(data)
    if header.schema_version >= CURRENT_VERSIONS.get(header.type, 1):
        event: Event = _event_decoder.decode(data)
        return event
    raw = upcast(_raw_decoder.decode(data), CURRENT_VERSIONS, UPCASTERS)
    lifted: Event = msgspec.convert(raw, AnyEvent)
    return lifted


def event_type(event: Event) -> str:
    tag = msgspec.inspect.type_info(type(event))
    assert isinstance(tag, msgspec.inspect.StructType)
    return str(tag.tag)


def decoder(kind: type[T] | Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)
