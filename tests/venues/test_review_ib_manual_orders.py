"""IB: a manual TWS order of a type the engine has no name for must not break account().

The adapter lists manual TWS orders (no orderRef) in ``account()`` as ``ib-perm-N`` so
that reconciliation can adopt them. An order type outside the engine's (MOC, REL, ...:
``order_type_from_ib`` raises ``IbTranslationError``) made ``account()`` raise that
error instead: not a ``VenueError``, so reconciliation crashed on every run and the
venue never became ready while the manual order rested. Such an order is left out (it
cannot be represented); the others are still listed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderStatus

from .ib import tws_messages as m
from .ib.fake_tws import FakeTws
from .ib.session import ib_session

D = Decimal
pytestmark = pytest.mark.asyncio


async def test_account_skips_a_manual_order_of_an_unmapped_type() -> None:
    fake = FakeTws()
    fake.open_orders = [
        m.open_order(
            3, m.AAPL, action="SELL", quantity="100", order_type="LMT", status="Submitted",
            perm_id=71, order_ref="ours-1", lmt_price="190.0", tif="GTC",
        ),
        m.order_status(3, "Submitted", remaining="100", perm_id=71),
        m.open_order(
            0, m.AAPL, action="BUY", quantity="50", order_type="MOC", status="PreSubmitted",
            perm_id=998, order_ref="", client_id=0,
        ),
    ]  # fmt: skip
    async with ib_session(fake=fake) as s:
        snapshot = await s.adapter.account()
    assert {(o.client_order_id, o.status, o.price) for o in snapshot.open_orders} == {
        ("ours-1", OrderStatus.ACCEPTED, D("190.0")),
    }
