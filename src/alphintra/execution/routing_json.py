"""Exact JSON codec of the routing dataclasses (`RoutingDecision.to_json`, `from_json`).

`_to_plain` turns a frozen dataclass tree into JSON-ready values, decimals as strings so
nothing is rounded and enums as their values; `_from_plain` rebuilds the tree from the
field types alone (unions with None, tuples, NewTypes, decimals, nested dataclasses,
string enums).
"""

from __future__ import annotations

import types
import typing
from dataclasses import fields, is_dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
"""Field names of each dataclass met while encoding (``fields`` is slow to call)."""


def _to_plain(value: object) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    names = _FIELD_NAMES.get(type(value))
    if names is not None:
        return {name: _to_plain(getattr(value, name)) for name in names}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [_to_plain(item) for item in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        _FIELD_NAMES[type(value)] = tuple(item.name for item in fields(value))
        return _to_plain(value)
    raise TypeError(f"cannot encode {type(value).__name__} {value!r} as JSON")


def _from_plain(kind: Any, value: Any) -> Any:
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union or origin is types.UnionType:
        if value is None:
            return None
        return _from_plain(next(a for a in arguments if a is not type(None)), value)
    if origin is tuple:
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return tuple(_from_plain(arguments[0], item) for item in value)
        return tuple(_from_plain(a, item) for a, item in zip(arguments, value, strict=True))
    if isinstance(kind, typing.NewType):
        return kind(_from_plain(kind.__supertype__, value))
    if kind is Decimal:
        return Decimal(value)
    if isinstance(kind, type) and is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(
            **{item.name: _from_plain(hints[item.name], value[item.name]) for item in fields(kind)}
        )
    if isinstance(kind, type) and issubclass(kind, StrEnum | str | int | bool):
        return kind(value)
    raise TypeError(f"cannot decode {kind!r} from JSON")
