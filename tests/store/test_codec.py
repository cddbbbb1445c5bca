"""The event codec: exact round trips for every event type, canonical bytes, clear errors."""

from __future__ import annotations

import enum
import types
import typing
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.events import AnyEvent, Event, OrderFilled, OrderInitialized
from alphintra.domain.values import Price, Quantity
from alphintra.store.codec import (
    EVENT_TYPES,
    EventDecodeError,
    EventEncodeError,
    decode_event,
    encode_event,
    event_type_of,
)
from store.factories import every_event_type

EVENT_CLASSES: tuple[type[Event], ...] = typing.get_args(AnyEvent)

_decimals = st.decimals(allow_nan=False, allow_infinity=False)
_texts = st.text(max_size=20)


def _strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """Derive a strategy from a field annotation of the domain events."""
    supertype = getattr(tp, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return _strategy_for(supertype)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_strategy_for(arg) for arg in typing.get_args(tp)])
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return st.lists(_strategy_for(item), max_size=3).map(tuple)
    if origin is dict:
        key, value = typing.get_args(tp)
        return st.dictionaries(_strategy_for(key), _strategy_for(value), max_size=3)
    if tp is type(None):
        return st.none()
    if tp is Price:
        return _decimals.map(Price)
    if tp is Quantity:
        return _decimals.map(abs).map(Quantity)
    if tp is Decimal:
        return _decimals
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=-(2**63), max_value=2**63 - 1)
    if tp is str:
        return _texts
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    raise AssertionError(f"no strategy for field type {tp!r}")


def _event_strategy(cls: type[Event]) -> st.SearchStrategy[Any]:
    fields = {f.name: _strategy_for(f.type) for f in msgspec.structs.fields(cls)}
    return st.builds(cls, **fields)


any_event = st.one_of([_event_strategy(cls) for cls in EVENT_CLASSES])


@settings(max_examples=500)
@given(any_event)
def test_codec_any_event_round_trips_equal_with_identical_bytes(event: AnyEvent) -> None:
    payload = encode_event(event)
    decoded = decode_event(payload)
    assert decoded == event
    assert type(decoded) is type(event)
    assert encode_event(decoded) == payload


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=30)
@given(data=st.data())
def test_codec_each_event_type_round_trips_field_types(
    cls: type[Event], data: st.DataObject
) -> None:
    event = data.draw(_event_strategy(cls))
    decoded = decode_event(encode_event(event))
    assert decoded == event
    for f in msgspec.structs.fields(cls):
        original, restored = getattr(event, f.name), getattr(decoded, f.name)
        assert type(restored) is type(original), f"{cls.__name__}.{f.name}"


def test_codec_event_types_cover_every_event_class() -> None:
    assert set(EVENT_TYPES.values()) == set(EVENT_CLASSES)
    assert {type(event) for event in every_event_type("A")} == set(EVENT_CLASSES)


def test_codec_price_and_quantity_decode_as_their_own_types() -> None:
    order = next(e for e in every_event_type("A") if isinstance(e, OrderInitialized))
    decoded = decode_event(encode_event(order))
    assert isinstance(decoded, OrderInitialized)
    assert type(decoded.quantity) is Quantity
    assert type(decoded.price) is Price
    assert type(decoded.trigger_price) is Price
    assert type(decoded.trailing_offset) is Decimal
    assert str(decoded.quantity) == "1000.00"  # the exponent survives


def test_codec_encoding_is_compact_json_tagged_by_type() -> None:
    payload = encode_event(every_event_type("A")[-1])
    assert payload.startswith(b'{"type":"OrderFilled","account_id":"A",')
    assert b'"last_quantity":"1000.00"' in payload
    assert b'": ' not in payload
    assert b'", "' not in payload


def test_codec_event_type_of_non_event_raises_naming_type() -> None:
    with pytest.raises(EventEncodeError, match="cannot journal a dict"):
        event_type_of({"type": "OrderFilled"})
    assert event_type_of(every_event_type("A")[-1]) == "OrderFilled"


def test_codec_decode_garbage_raises_with_payload_preview() -> None:
    with pytest.raises(EventDecodeError, match=r"invalid journal event payload.*not json"):
        decode_event(b"not json")
    with pytest.raises(EventDecodeError, match="NoSuchEvent"):
        decode_event(b'{"type":"NoSuchEvent","account_id":"A"}')


def test_codec_decode_bad_price_raises_naming_value() -> None:
    carrier = next(e for e in every_event_type("A") if b'"1.08345"' in encode_event(e))
    payload = encode_event(carrier).replace(b'"1.08345"', b'"one"')
    with pytest.raises(EventDecodeError, match="'one'"):
        decode_event(payload)


def test_codec_encode_unknown_field_type_raises() -> None:
    fill = every_event_type("A")[-1]
    assert isinstance(fill, OrderFilled)
    broken = msgspec.structs.replace(fill, fee=object())
    with pytest.raises(EventEncodeError, match="cannot encode OrderFilled"):
        encode_event(broken)
