"""Encoding of contracts on the wire: msgspec JSON, decoders built once."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from phoenix_contracts.base import Event
from phoenix_contracts.log import AnyEvent

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_event_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(AnyEvent)


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def decode_event(data: bytes) -> Event:
    event: Event = _event_decoder.decode(data)
    return event


def event_type(event: Event) -> str:
    tag = msgspec.inspect.type_info(type(event))
    assert isinstance(tag, msgspec.inspect.StructType)
    return str(tag.tag)


def decoder(kind: type[T] | Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)
