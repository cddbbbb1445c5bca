"""build_order memoises the instrument's price and quantity checks: results must not change.

The memo is keyed by the instrument and the number's value; these tests check that it
never hands one instrument's result to another, never lets a refused value through,
and returns exactly what the instrument itself returns.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import AssetClass, InstrumentKind, OrderSide, OrderType
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, VenueId
from alphintra.domain.instruments import Instrument
from alphintra.domain.values import Price, Quantity
from alphintra.orders.factory import OrderValidationError, build_order

NATIVE = frozenset({OrderType.MARKET, OrderType.LIMIT})


def _instrument(lot: str, tick: str, symbol: str = "TEST") -> Instrument:
    return Instrument(
        id=InstrumentId(symbol),
        venue_symbol=symbol,
        asset_class=AssetClass.FX,
        kind=InstrumentKind.SPOT,
        base_currency="EUR",
        quote_currency="USD",
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        min_quantity=Decimal(lot),
    )


def _build(instrument: Instrument, quantity: object, price: object | None = None) -> Quantity:
    init = build_order(
        OrderRequest(
            instrument_id=instrument.id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            quantity=quantity,  # type: ignore[arg-type]  # the tests pass wrong types too
            price=price,  # type: ignore[arg-type]
        ),
        instrument,
        account_id=AccountId("ACC"),
        client_order_id=ClientOrderId("O-1"),
        venue=VenueId("SIM"),
        native_types=NATIVE,
        ts=1,
    )
    return init.quantity


def test_build_order_equal_quantities_any_exponent_same_result_as_instrument() -> None:
    instrument = _instrument(lot="0.01", tick="0.0001")
    for text in ("1000", "1000.0", "1000.000", "1E+3"):
        value = Decimal(text)
        built = _build(instrument, value)
        assert built == instrument.make_quantity(value)
        assert str(built) == "1000.00", f"{text} gave {built}"
        assert type(built) is Quantity


def test_build_order_same_value_two_instruments_each_gets_its_own_quantity() -> None:
    fine = _instrument(lot="0.001", tick="0.0001", symbol="FINE")
    coarse = _instrument(lot="1", tick="0.01", symbol="COARSE")
    value = Decimal(5)
    assert str(_build(fine, value)) == "5.000"
    assert str(_build(coarse, value)) == "5"
    assert str(_build(fine, value)) == "5.000"


def test_build_order_refused_quantity_is_refused_every_time() -> None:
    instrument = _instrument(lot="1", tick="0.0001")
    for _ in range(3):
        with pytest.raises(OrderValidationError) as caught:
            _build(instrument, Decimal("10.5"))
        assert caught.value.code == "INVALID_QUANTITY"


def test_build_order_float_after_equal_decimal_was_memoised_still_refused() -> None:
    instrument = _instrument(lot="1", tick="0.0001")
    assert str(_build(instrument, Decimal(1000))) == "1000"
    with pytest.raises(OrderValidationError) as caught:
        _build(instrument, 1000.0)
    assert caught.value.code == "INVALID_QUANTITY"
    assert "float" in str(caught.value)


def test_build_order_signalling_nan_quantity_refused_as_invalid() -> None:
    instrument = _instrument(lot="1", tick="0.0001")
    with pytest.raises(OrderValidationError) as caught:
        _build(instrument, Decimal("sNaN"))
    assert caught.value.code == "INVALID_QUANTITY"


def test_build_order_equal_prices_any_exponent_same_price_and_off_tick_refused() -> None:
    instrument = _instrument(lot="1", tick="0.0005")
    for text in ("1.1", "1.1000", "1.10000000"):
        init_price = build_order(
            OrderRequest(
                instrument_id=instrument.id,
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                quantity=Decimal(1),
                price=Decimal(text),
            ),
            instrument,
            account_id=AccountId("ACC"),
            client_order_id=ClientOrderId("O-1"),
            venue=VenueId("SIM"),
            native_types=NATIVE,
            ts=1,
        ).price
        assert type(init_price) is Price
        assert str(init_price) == "1.1000"
    for _ in range(2):
        with pytest.raises(OrderValidationError) as caught:
            _build(instrument, Decimal(1), Decimal("1.1001"))
        assert caught.value.code == "INVALID_PRICE"
