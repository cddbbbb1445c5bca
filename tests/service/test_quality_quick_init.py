"""The quick constructors of the execution-quality dataclasses build ordinary instances.

`measure` and `Execution.from_event` build `OrderQuality`, `FillQuality` and `Execution`
through `_quick_init` (an unfrozen twin turned into the class) instead of the frozen
dataclass's own ``__init__``. What they build must be indistinguishable from what the
class builds: its type, equality, hash, ``repr``, pickling, immutability, and for
`Execution` the same validation.
"""

from __future__ import annotations

import dataclasses
import pickle
from decimal import Decimal

import pytest

from alphintra.domain.enums import LiquiditySide, OrderSide
from alphintra.domain.events import OrderFilled
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.market import QuoteTick
from alphintra.domain.values import Quantity
from alphintra.execution import quality as q
from alphintra.execution.quality import Execution, FillQuality, OrderQuality, OrderRecord

XYZ = InstrumentId("XYZ")
SEC = 1_000_000_000
D = Decimal


def _measured() -> OrderQuality:
    quotes = [
        QuoteTick(XYZ, D("99.90"), D("100.10"), D(1), D(1), 0),
        QuoteTick(XYZ, D("100.00"), D("100.20"), D(1), D(1), SEC),
    ]
    fill = Execution(SEC + 5, D("100.20"), D("2"), D("0.25"), VenueId("V"), TradeId("t1"))
    order = OrderRecord(
        ClientOrderId("O"),
        XYZ,
        OrderSide.BUY,
        D("3"),
        10,
        (fill,),
        "USD",
        end_ts=SEC + 5,
        account_id=AccountId("acct"),
    )
    return q.order_quality(order, quotes, horizon_ns=60 * SEC)


def _rebuilt(value: object) -> object:
    """Return ``value`` built again by its class's own (frozen dataclass) constructor."""
    kind = type(value)
    return kind(**{f.name: getattr(value, f.name) for f in dataclasses.fields(kind)})  # type: ignore[arg-type]


@pytest.mark.parametrize("pick", ["order", "fill"])
def test_quick_instances_are_ordinary_instances(pick: str) -> None:
    quality = _measured()
    built: object = quality if pick == "order" else quality.fills[0]
    expected_type = OrderQuality if pick == "order" else FillQuality
    assert type(built) is expected_type
    own = _rebuilt(built)
    assert built == own
    assert hash(built) == hash(own)
    assert repr(built) == repr(own)
    assert pickle.loads(pickle.dumps(built)) == own
    first = dataclasses.fields(expected_type)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, first, getattr(built, first))
    assert not hasattr(built, "__dict__")


def _fill(quantity: Decimal, price: Decimal) -> OrderFilled:
    return OrderFilled(
        account_id=AccountId("acct"),
        client_order_id=ClientOrderId("O"),
        ts_event=7,
        ts_recv=7,
        venue=VenueId("V"),
        venue_order_id=VenueOrderId("v1"),
        trade_id=TradeId("t1"),
        instrument_id=XYZ,
        side=OrderSide.BUY,
        last_quantity=Quantity(quantity),
        last_price=price,
        fee=D("0.5"),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
    )


def test_execution_from_event_matches_the_constructor() -> None:
    built = Execution.from_event(_fill(D("2"), D("100.5")))
    own = Execution(7, D("100.5"), D("2"), D("0.5"), VenueId("V"), TradeId("t1"))
    assert type(built) is Execution
    assert (built, hash(built), repr(built)) == (own, hash(own), repr(own))
    converted = Execution.from_event(_fill(D("2"), D("100.5")), fee_in_quote=D("50.25"))
    assert converted.fee == D("50.25")


@pytest.mark.parametrize(
    ("quantity", "price", "message"),
    [
        (D("0"), D("1"), "fill quantity must be positive, got 0"),
        (D("1"), D("-1"), "fill price must be positive, got -1"),
    ],
)
def test_execution_from_event_still_validates(
    quantity: Decimal, price: Decimal, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Execution.from_event(_fill(quantity, price))
