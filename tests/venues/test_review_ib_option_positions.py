"""IB: a position in a product the engine does not model is not booked on its underlying.

``instrument_id_for_contract`` named any contract it did not know by its bare symbol,
so an AAPL option (secType OPT, symbol AAPL) held in the account came out of
``account()`` as instrument AAPL: reconciliation compares positions by instrument, and
the option's 5 contracts replaced the 100 AAPL shares, a position mismatch the engine
records; a manual option order was likewise listed as an AAPL order to adopt. A
contract of a type the adapter does not trade (options, futures options, warrants,
bonds, ...) keeps a name of its own.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.identifiers import InstrumentId

from .ib import tws_messages as m
from .ib.fake_tws import FakeTws
from .ib.session import ib_session

D = Decimal
pytestmark = pytest.mark.asyncio

AAPL_CALL = [
    "712345678",  # conId
    "AAPL",
    "OPT",
    "20260116",  # lastTradeDateOrContractMonth
    "200",  # strike
    "C",  # right
    "100",  # multiplier
    "SMART",
    "USD",
    "AAPL  260116C00200000",  # localSymbol
    "AAPL",  # tradingClass
]


async def test_an_option_position_is_not_reported_as_the_stock() -> None:
    fake = FakeTws()
    fake.positions = [
        m.position(m.AAPL, "100", "185.2"),
        ["61", "3", m.ACCOUNT, *AAPL_CALL, "5", "1250.0"],
    ]
    async with ib_session(fake=fake) as s:
        snapshot = await s.adapter.account()
    held = [(p.instrument_id, p.quantity) for p in snapshot.positions]
    assert (InstrumentId("AAPL"), D(100)) in held
    assert [i for i, _ in held].count(InstrumentId("AAPL")) == 1
    assert len(held) == 2
