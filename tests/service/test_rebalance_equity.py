"""A REBALANCE trades target weights of the account's equity. With equity at or below
zero those targets mean nothing (a +50 % weight of a negative equity is a short; of
zero, a close of every listed position), so the signal is rejected with the equity
named and no order goes out. Real service, engine, simulated venue and SQLite journal."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from alphintra.domain.enums import OrderType, SignalAction
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.service.account_runtime import SignalOutcome
from alphintra.service.trading import AccountSettings, TradingService
from alphintra.store.journal import open_journal
from alphintra.store.migrate import upgrade
from alphintra.venues.simulated.matching import SimulatedVenueConfig

T0 = 1_700_000_000_000_000_000
EURUSD = InstrumentId("EURUSD")
ACCOUNT = AccountId("A")


def _tick(service: TradingService, mid: str, ts: int) -> None:
    half = Decimal("0.0001")
    tick = QuoteTick(EURUSD, Decimal(mid) - half, Decimal(mid) + half, Decimal(0), Decimal(0), ts)
    asyncio.run(service.on_market_data(tick))


def _signal(signal_id: str, action: SignalAction, **fields: object) -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId(signal_id),
        model_id=ModelId("m"),
        instrument_id=EURUSD,
        action=action,
        confidence=Decimal("0.5"),
        ts=T0,
        order_type=OrderType.MARKET,
        **fields,  # type: ignore[arg-type]
    )


def _submit(service: TradingService, signal: TradingSignal) -> SignalOutcome:
    (outcome,) = asyncio.run(service.submit_signals("A", [signal], None))
    assert isinstance(outcome, SignalOutcome), outcome
    return outcome


def test_rebalance_with_negative_equity_is_rejected_and_sends_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alphintra.db'}"
    upgrade(url)
    journal = open_journal(url)
    clock = SimulatedClock(T0)
    service = TradingService(journal=journal, registry=InstrumentRegistry(), clock=clock)
    service.open_account(
        AccountSettings(account_id=ACCOUNT, owner="u", starting_cash=Decimal(1_000_000))
    )
    _tick(service, "1.1000", T0)
    # 10,000,000 EUR bought on 1,000,000 USD (no buying-power limit): 10:1 leverage.
    bought = _submit(service, _signal("buy", SignalAction.BUY, quantity=Decimal(10_000_000)))
    assert bought.status in {"ACCEPTED", "EXECUTED"}
    _tick(service, "0.9000", T0 + 10**9)  # 2,000,000 lost: equity about -1,000,000
    engine = service.accounts[ACCOUNT].engine
    assert engine.valuation().total < 0
    orders_before = len(engine.state.orders)

    outcome = _submit(
        service,
        _signal("rebalance", SignalAction.REBALANCE, target_weights={EURUSD: Decimal("0.5")}),
    )

    assert (outcome.status, outcome.reason_code) == ("REJECTED", "NON_POSITIVE_EQUITY")
    assert outcome.reason is not None and "account equity is -" in outcome.reason
    assert outcome.order_ids == ()
    assert len(engine.state.orders) == orders_before
    assert engine.state.position_quantity(EURUSD) == Decimal(10_000_000)
    journal.close()


def test_a_second_rebalance_before_the_first_fills_does_not_trade_it_again(
    tmp_path: Path,
) -> None:
    """The venue fills market orders only after a second of latency. Two REBALANCE
    signals to the same 50 % weight, the second before the first's order filled: the
    second counts the working order and sends nothing, and the position ends on the
    target rather than at twice it."""
    url = f"sqlite:///{tmp_path / 'alphintra.db'}"
    upgrade(url)
    journal = open_journal(url)
    service = TradingService(
        journal=journal,
        registry=InstrumentRegistry(),
        clock=SimulatedClock(T0),
        venue_config=SimulatedVenueConfig(latency_ns=10**9),
    )
    service.open_account(
        AccountSettings(account_id=ACCOUNT, owner="u", starting_cash=Decimal(1_000_000))
    )
    _tick(service, "1.1000", T0)
    weights = {EURUSD: Decimal("0.5")}
    first = _submit(service, _signal("r1", SignalAction.REBALANCE, target_weights=weights))
    assert first.status == "ACCEPTED" and len(first.order_ids) == 1
    second = _submit(service, _signal("r2", SignalAction.REBALANCE, target_weights=weights))
    assert (second.reason_code, second.order_ids) == ("NOTHING_TO_REBALANCE", ())
    _tick(service, "1.1000", T0 + 2 * 10**9)  # past the latency: the first order fills
    engine = service.accounts[ACCOUNT].engine
    target = engine.state.orders[first.order_ids[0]].quantity
    assert engine.state.position_quantity(EURUSD) == target
    assert not engine.state.open_orders
    journal.close()
