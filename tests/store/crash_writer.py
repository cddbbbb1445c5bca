"""Child process of the crash test: append and commit forever, acknowledging each commit.

Usage: ``python crash_writer.py <journal url> <seed>``. Prints ``ready A=<seq> B=<seq>``
with the recovered heads, then after every ``commit()`` returns prints the committed
heads as ``A=<seq> B=<seq>`` (only the accounts in that batch) and flushes. Event
content is a function of (account, seq), so the parent can check it.
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal

from alphintra.domain.enums import LiquiditySide, OrderSide
from alphintra.domain.events import AccountFunded, AnyEvent, OrderFilled
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.values import Price, Quantity
from alphintra.store import open_journal

ACCOUNTS = (AccountId("A"), AccountId("B"))


def event_for(account: AccountId, seq: int) -> AnyEvent:
    """Return the event the writer stores at ``seq``: every fifth one is a fill."""
    if seq % 5 == 0:
        return OrderFilled(
            account_id=account,
            ts_event=seq,
            ts_recv=seq,
            client_order_id=ClientOrderId(f"O-{seq}"),
            venue=VenueId("SIM"),
            venue_order_id=VenueOrderId(f"V-{seq}"),
            trade_id=TradeId(f"T-{seq}"),
            instrument_id=InstrumentId("EURUSD"),
            side=OrderSide.BUY,
            last_quantity=Quantity("1.00"),
            last_price=Price("1.10000"),
            fee=Decimal("0.01"),
            fee_currency="USD",
            liquidity=LiquiditySide.TAKER,
        )
    return AccountFunded(
        account_id=account, ts_event=seq, ts_recv=seq, currency="USD", amount=Decimal(seq)
    )


def main(url: str, seed: int) -> None:
    """Write until killed."""
    rng = random.Random(seed)
    journal = open_journal(url)
    heads = {account: journal.head(account).seq for account in ACCOUNTS}
    print("ready " + " ".join(f"{a}={s}" for a, s in heads.items()), flush=True)
    while True:
        for _ in range(rng.randint(1, 12)):
            account = rng.choice(ACCOUNTS)
            heads[account] += 1
            assert journal.append(event_for(account, heads[account])) == heads[account]
        committed = journal.commit()
        sys.stdout.write(" ".join(f"{a}={s}" for a, s in committed.items()) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
