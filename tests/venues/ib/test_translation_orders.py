"""OrderInitialized to ib_async Order: every order type and time in force."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ib_async.util import UNSET_DOUBLE

from alphintra.domain.enums import (
    ContingencyType,
    OrderSide,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, OrderListId
from alphintra.domain.values import Price, Quantity
from alphintra.venues.ib.translation import IbTranslationError, order_for, order_type_from_ib

D = Decimal


def _order(order_type: OrderType, **fields: object) -> OrderInitialized:
    values: dict[str, object] = {
        "account_id": AccountId("A"),
        "client_order_id": ClientOrderId("cid-42"),
        "ts_event": 0,
        "ts_recv": 0,
        "instrument_id": InstrumentId("AAPL"),
        "side": OrderSide.BUY,
        "order_type": order_type,
        "quantity": Quantity(D("100")),
        **fields,
    }
    return OrderInitialized(**values)  # type: ignore[arg-type]


def test_order_for_market_sets_mkt_action_quantity_and_order_ref() -> None:
    ib = order_for(_order(OrderType.MARKET, side=OrderSide.SELL))
    assert (ib.orderType, ib.action, ib.totalQuantity, ib.orderRef) == (
        "MKT",
        "SELL",
        100,
        "cid-42",
    )
    assert ib.transmit is True
    assert ib.lmtPrice == UNSET_DOUBLE and ib.auxPrice == UNSET_DOUBLE


def test_order_for_limit_keeps_the_exact_decimal_price() -> None:
    ib = order_for(_order(OrderType.LIMIT, price=Price(D("1.10005")), quantity=Quantity(D("0.1"))))
    assert ib.orderType == "LMT"
    assert ib.lmtPrice == D("1.10005") and isinstance(ib.lmtPrice, Decimal)
    assert str(ib.totalQuantity) == "0.1"  # sent as text: exactly the decimal digits


def test_order_for_stop_puts_the_stop_in_aux_price() -> None:
    ib = order_for(_order(OrderType.STOP, trigger_price=Price(D("180.5"))))
    assert (ib.orderType, ib.auxPrice, ib.lmtPrice) == ("STP", D("180.5"), UNSET_DOUBLE)


def test_order_for_stop_limit_sets_limit_and_stop() -> None:
    ib = order_for(
        _order(OrderType.STOP_LIMIT, price=Price(D("181")), trigger_price=Price(D("180.5")))
    )
    assert (ib.orderType, ib.lmtPrice, ib.auxPrice) == ("STP LMT", D("181"), D("180.5"))


def test_order_for_take_profit_without_limit_is_market_if_touched() -> None:
    ib = order_for(_order(OrderType.TAKE_PROFIT, trigger_price=Price(D("200"))))
    assert (ib.orderType, ib.auxPrice) == ("MIT", D("200"))


def test_order_for_take_profit_with_limit_is_limit_if_touched() -> None:
    ib = order_for(
        _order(OrderType.TAKE_PROFIT, trigger_price=Price(D("200")), price=Price(D("199.5")))
    )
    assert (ib.orderType, ib.auxPrice, ib.lmtPrice) == ("LIT", D("200"), D("199.5"))


def test_order_for_trailing_stop_by_amount_uses_aux_price_and_initial_stop() -> None:
    ib = order_for(
        _order(
            OrderType.TRAILING_STOP,
            side=OrderSide.SELL,
            trailing_offset=D("2.5"),
            trailing_offset_type=TrailingOffsetType.PRICE,
            trigger_price=Price(D("180")),
        )
    )
    assert (ib.orderType, ib.auxPrice, ib.trailStopPrice) == ("TRAIL", D("2.5"), D("180"))
    assert ib.trailingPercent == UNSET_DOUBLE


def test_order_for_trailing_stop_by_percent_uses_trailing_percent() -> None:
    ib = order_for(
        _order(
            OrderType.TRAILING_STOP,
            trailing_offset=D("1.5"),
            trailing_offset_type=TrailingOffsetType.PERCENT,
        )
    )
    assert (ib.orderType, ib.trailingPercent, ib.auxPrice) == ("TRAIL", D("1.5"), UNSET_DOUBLE)


def test_order_for_trailing_stop_limit_derives_the_limit_offset() -> None:
    ib = order_for(
        _order(
            OrderType.TRAILING_STOP,
            side=OrderSide.SELL,
            trailing_offset=D("2"),
            trailing_offset_type=TrailingOffsetType.PRICE,
            trigger_price=Price(D("180")),
            price=Price(D("179.5")),
        )
    )
    assert (ib.orderType, ib.lmtPriceOffset, ib.trailStopPrice) == (
        "TRAIL LIMIT",
        D("0.5"),
        D("180"),
    )


def test_order_for_iceberg_is_limit_with_display_size() -> None:
    ib = order_for(
        _order(OrderType.ICEBERG, price=Price(D("185")), display_quantity=Quantity(D("10")))
    )
    assert (ib.orderType, ib.lmtPrice, ib.displaySize) == ("LMT", D("185"), 10)
    assert order_type_from_ib(ib) is OrderType.ICEBERG


@pytest.mark.parametrize(
    ("tif", "expected"),
    [
        (TimeInForce.DAY, "DAY"),
        (TimeInForce.GTC, "GTC"),
        (TimeInForce.IOC, "IOC"),
        (TimeInForce.FOK, "FOK"),
    ],
)
def test_order_for_time_in_force_maps_to_ib_tif(tif: TimeInForce, expected: str) -> None:
    ib = order_for(_order(OrderType.LIMIT, price=Price(D("1")), time_in_force=tif))
    assert ib.tif == expected
    assert ib.goodTillDate == ""


def test_order_for_gtd_sets_good_till_date_in_utc() -> None:
    expire = 1_737_061_200_000_000_000  # 2025-01-16 21:00:00 UTC
    ib = order_for(
        _order(
            OrderType.LIMIT, price=Price(D("1")), time_in_force=TimeInForce.GTD, expire_ts=expire
        )
    )
    assert (ib.tif, ib.goodTillDate) == ("GTD", "20250116 21:00:00 UTC")


def test_order_for_gtd_without_expiry_raises() -> None:
    with pytest.raises(IbTranslationError, match="expire_ts"):
        order_for(_order(OrderType.LIMIT, price=Price(D("1")), time_in_force=TimeInForce.GTD))


def test_order_for_oco_member_joins_the_oca_group_cancelling_with_block() -> None:
    ib = order_for(
        _order(
            OrderType.LIMIT,
            price=Price(D("1")),
            contingency=ContingencyType.OCO,
            order_list_id=OrderListId("OL-7"),
        )
    )
    assert (ib.ocaGroup, ib.ocaType) == ("OL-7", 1)


def test_order_for_sets_account_and_outside_rth_from_config() -> None:
    ib = order_for(_order(OrderType.MARKET), account="DU111", outside_rth=True)
    assert (ib.account, ib.outsideRth) == ("DU111", True)


@pytest.mark.parametrize(
    ("order_type", "fields", "problem"),
    [
        (OrderType.LIMIT, {}, "limit price"),
        (OrderType.STOP, {}, "stop price"),
        (OrderType.STOP_LIMIT, {"price": Price(D("1"))}, "stop price"),
        (OrderType.TAKE_PROFIT, {}, "trigger price"),
        (OrderType.TRAILING_STOP, {}, "trailing offset"),
        (OrderType.ICEBERG, {"price": Price(D("1"))}, "display quantity"),
        (
            OrderType.ICEBERG,
            {"price": Price(D("1")), "display_quantity": Quantity(D("2.5"))},
            "whole number",
        ),
        (OrderType.MARKET, {"reduce_only": True}, "reduce-only"),
        (OrderType.LIMIT, {"price": Price(D("1")), "post_only": True}, "post-only"),
    ],
)
def test_order_for_incomplete_or_unsupported_order_raises(
    order_type: OrderType, fields: dict[str, object], problem: str
) -> None:
    with pytest.raises(IbTranslationError, match=problem):
        order_for(_order(order_type, **fields))


def test_order_type_from_ib_maps_every_type_back() -> None:
    for order_type in OrderType:
        if order_type is OrderType.ICEBERG:
            continue
        fields: dict[str, object] = {
            "price": Price(D("10")),
            "trigger_price": Price(D("11")),
            "trailing_offset": D("1"),
        }
        if order_type is OrderType.MARKET:
            fields = {}
        if order_type is OrderType.STOP:
            fields = {"trigger_price": Price(D("11"))}
        assert order_type_from_ib(order_for(_order(order_type, **fields))) is order_type
