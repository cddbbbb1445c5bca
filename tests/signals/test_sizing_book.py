"""Sizing policies in the journal and the configuration: read back equal, refused
precisely."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.identifiers import AccountId
from alphintra.signals.sizing import (
    ConfidenceScaled,
    FixedNotional,
    FixedQuantity,
    FractionalKelly,
    PercentOfEquity,
    SizingError,
    SizingPolicy,
)
from alphintra.signals.sizing_book import (
    SizingBook,
    latest_sizing,
    recorded_sizing,
    sizing_changed,
)

POLICIES: list[SizingPolicy | None] = [
    None,
    FixedQuantity(quantity=Decimal("0.001")),
    FixedNotional(notional=Decimal("2500.50")),
    PercentOfEquity(percent=Decimal("1.5")),
    ConfidenceScaled(base=PercentOfEquity(percent=Decimal(2)), min_confidence=Decimal("0.6")),
    FractionalKelly(max_percent_of_equity=Decimal(5), fraction=Decimal("0.3")),
]


@pytest.mark.parametrize("policy", POLICIES)
def test_sizing_policy_round_trips_through_the_journal_event(policy: SizingPolicy | None) -> None:
    event = sizing_changed(AccountId("A"), 3, policy)
    assert recorded_sizing(event) == policy
    assert latest_sizing([event]) == (True, policy)


def test_latest_sizing_takes_the_last_and_reports_none_found() -> None:
    first = sizing_changed(AccountId("A"), 1, POLICIES[1])
    last = sizing_changed(AccountId("A"), 2, None)
    assert latest_sizing([first, last]) == (True, None)
    assert latest_sizing([]) == (False, None)


def test_a_journaled_policy_that_no_longer_loads_names_the_account() -> None:
    event = sizing_changed(AccountId("ACC-7"), 9, None)
    broken = type(event)(
        account_id=event.account_id, ts_event=9, ts_recv=9, policy='{"kind": "doubling"}'
    )
    with pytest.raises(SizingError, match=r"sizing policy of account ACC-7 \(ts 9\).*'doubling'"):
        recorded_sizing(broken)


def test_sizing_book_account_null_overrides_the_default() -> None:
    book = SizingBook.from_mapping(
        {
            "defaults": {"kind": "percent_of_equity", "percent": "1"},
            "accounts": {"QUIET": None, "BIG": {"kind": "fixed_notional", "notional": "10000"}},
        }
    )
    assert book.for_account("ANY") == PercentOfEquity(percent=Decimal(1))
    assert book.for_account("QUIET") is None
    assert book.for_account("BIG") == FixedNotional(notional=Decimal(10000))
    assert SizingBook.from_mapping({}).for_account("ANY") is None
