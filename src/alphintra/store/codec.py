"""The journal's event codec: domain events to canonical JSON bytes and back.

Events are msgspec tagged unions (``AnyEvent``). The encoded form is compact JSON:
the ``type`` tag first, then every field in declaration order, defaults included,
decimals as strings (``"1.50"`` keeps its exponent). For a given event the bytes are
always the same, so they are what the journal hashes and exactly what it stores.

``Price`` and ``Quantity`` are ``Decimal`` subclasses that msgspec does not know:
they are encoded through ``enc_hook`` as the decimal string and rebuilt through
``dec_hook``, so a decoded event equals the original and its fields keep their types.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Final

import msgspec

from alphintra.domain.events import AnyEvent, Event
from alphintra.domain.values import Price, Quantity

__all__ = [
    "EVENT_TYPES",
    "EventDecodeError",
    "EventEncodeError",
    "decode_event",
    "encode_event",
    "event_type_of",
]


class EventEncodeError(TypeError):
    """An object could not be encoded as a journal event."""


class EventDecodeError(ValueError):
    """Stored bytes are not a valid journal event."""


def _enc_hook(obj: object) -> object:
    if isinstance(obj, Decimal):
        return str(obj)
    raise NotImplementedError(
        f"cannot encode {type(obj).__name__} {obj!r} in a journal event; "
        "only msgspec-native types, Price and Quantity are supported"
    )


def _dec_hook(tp: type, obj: object) -> object:
    if tp is Price or tp is Quantity:
        if not isinstance(obj, str):
            raise TypeError(f"expected a decimal string for {tp.__name__}, got {obj!r}")
        try:
            return tp(obj)
        except InvalidOperation:
            raise ValueError(f"invalid decimal string for {tp.__name__}: {obj!r}") from None
    raise NotImplementedError(f"cannot decode type {tp!r} in a journal event")


_EVENT_CLASSES: Final[tuple[type[Event], ...]] = typing.get_args(AnyEvent)


def _tag(cls: type[Event]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str), f"event {cls.__name__} must have a string tag, got {tag!r}"
    return tag


EVENT_TYPES: Final[Mapping[str, type[Event]]] = MappingProxyType(
    {_tag(cls): cls for cls in _EVENT_CLASSES}
)
"""Every journal event type, by the type tag stored with it."""

_TYPE_OF: Final[dict[type, str]] = {cls: tag for tag, cls in EVENT_TYPES.items()}

_ENCODER: Final = msgspec.json.Encoder(enc_hook=_enc_hook)
_DECODER: Final[msgspec.json.Decoder[AnyEvent]] = msgspec.json.Decoder(AnyEvent, dec_hook=_dec_hook)


def event_type_of(event: object) -> str:
    """Return the type tag of ``event``; raise ``EventEncodeError`` for a non-event."""
    try:
        return _TYPE_OF[type(event)]
    except KeyError:
        raise EventEncodeError(
            f"cannot journal a {type(event).__name__}: expected one of the event types "
            f"in alphintra.domain.events ({', '.join(sorted(EVENT_TYPES))})"
        ) from None


def encode_event(event: AnyEvent) -> bytes:
    """Return the canonical JSON bytes of ``event``."""
    try:
        return _ENCODER.encode(event)
    except (NotImplementedError, TypeError, ValueError) as exc:
        raise EventEncodeError(f"cannot encode {type(event).__name__}: {exc}") from exc


def decode_event(payload: bytes) -> AnyEvent:
    """Decode canonical JSON bytes back into the domain event they encode."""
    try:
        return _DECODER.decode(payload)
    except msgspec.DecodeError as exc:
        preview = bytes(payload[:120])
        raise EventDecodeError(f"invalid journal event payload ({exc}): {preview!r}") from None


# The journal's hot path calls these bound methods directly, skipping the wrappers.
fast_encode: Final = _ENCODER.encode
fast_type_of: Final = _TYPE_OF.get
