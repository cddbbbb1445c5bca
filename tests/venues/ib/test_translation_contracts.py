"""Instrument to IB contract, for each asset class, and back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ib_async import CFD, Commodity, Contract, Crypto, Forex, Future, Stock

from alphintra.domain.enums import AssetClass, InstrumentKind
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.registry import default_instrument
from alphintra.venues.ib.translation import (
    IbTranslationError,
    contract_for,
    contract_keys,
    instrument_id_for_contract,
    parse_future_symbol,
)

from .session import ES_FUTURE


def _instrument(
    symbol: str,
    venue_symbol: str,
    asset: AssetClass,
    kind: InstrumentKind,
    base: str,
    quote: str,
    multiplier: str = "1",
) -> Instrument:
    return Instrument(
        InstrumentId(symbol),
        venue_symbol,
        asset,
        kind,
        base,
        quote,
        Decimal("0.01"),
        Decimal(1),
        multiplier=Decimal(multiplier),
    )


def test_contract_for_stock_is_smart_routed_stock_in_quote_currency() -> None:
    contract = contract_for(default_instrument("AAPL"))
    assert isinstance(contract, Stock)
    assert (contract.secType, contract.symbol, contract.exchange, contract.currency) == (
        "STK",
        "AAPL",
        "SMART",
        "USD",
    )
    assert contract.primaryExchange == ""


def test_contract_for_etf_is_a_stock() -> None:
    assert contract_for(default_instrument("SPY")).secType == "STK"


def test_contract_for_stock_with_primary_exchange_sets_primary() -> None:
    sap = _instrument("SAP", "SAP@IBIS", AssetClass.EQUITY, InstrumentKind.STOCK, "SAP", "EUR")
    contract = contract_for(sap)
    assert (contract.symbol, contract.exchange, contract.primaryExchange, contract.currency) == (
        "SAP",
        "SMART",
        "IBIS",
        "EUR",
    )


def test_contract_for_fx_spot_is_cash_on_idealpro() -> None:
    contract = contract_for(default_instrument("EURUSD"))
    assert isinstance(contract, Forex)
    assert (contract.secType, contract.symbol, contract.currency, contract.exchange) == (
        "CASH",
        "EUR",
        "USD",
        "IDEALPRO",
    )


def test_contract_for_fx_cfd_is_smart_cfd() -> None:
    fx_cfd = _instrument("GBPUSD", "GBPUSD", AssetClass.FX, InstrumentKind.CFD, "GBP", "USD")
    contract = contract_for(fx_cfd)
    assert (contract.secType, contract.symbol, contract.currency) == ("CFD", "GBP", "USD")


def test_contract_for_future_by_month_carries_month_multiplier_and_exchange() -> None:
    contract = contract_for(ES_FUTURE)
    assert isinstance(contract, Future)
    assert (
        contract.symbol,
        contract.lastTradeDateOrContractMonth,
        contract.exchange,
        contract.multiplier,
        contract.currency,
        contract.localSymbol,
    ) == ("ES", "202512", "CME", "50", "USD", "")


def test_contract_for_future_by_local_symbol_sets_local_symbol() -> None:
    fgbl = _instrument(
        "FGBLH6",
        "FGBLH6@EUREX",
        AssetClass.INDEX,
        InstrumentKind.FUTURE,
        "FGBL",
        "EUR",
        multiplier="1000",
    )
    contract = contract_for(fgbl)
    assert (contract.secType, contract.localSymbol, contract.exchange, contract.multiplier) == (
        "FUT",
        "FGBLH6",
        "EUREX",
        "1000",
    )


def test_contract_for_commodity_future_is_a_future() -> None:
    crude = _instrument(
        "CLF6",
        "CL@NYMEX:202601",
        AssetClass.COMMODITY,
        InstrumentKind.FUTURE,
        "CL",
        "USD",
        multiplier="1000",
    )
    assert contract_for(crude).secType == "FUT"


def test_contract_for_gold_is_spot_commodity_on_smart() -> None:
    contract = contract_for(default_instrument("XAUUSD"))
    assert isinstance(contract, Commodity)
    assert (contract.secType, contract.symbol, contract.exchange, contract.currency) == (
        "CMDTY",
        "XAUUSD",
        "SMART",
        "USD",
    )


def test_contract_for_silver_is_spot_commodity() -> None:
    assert contract_for(default_instrument("XAGUSD")).symbol == "XAGUSD"


def test_contract_for_index_cfd_uses_ib_symbol() -> None:
    contract = contract_for(default_instrument("DE40EUR"))
    assert isinstance(contract, CFD)
    assert (contract.symbol, contract.exchange, contract.currency) == ("IBDE40", "SMART", "EUR")
    assert contract_for(default_instrument("NAS100USD")).symbol == "IBUST100"
    assert contract_for(default_instrument("SPX500USD")).symbol == "IBUS500"


def test_contract_for_index_cfd_with_ib_venue_symbol_uses_it() -> None:
    nikkei = _instrument(
        "JP225JPY", "IBJP225", AssetClass.INDEX, InstrumentKind.CFD, "JP225", "JPY"
    )
    contract = contract_for(nikkei)
    assert (contract.symbol, contract.currency) == ("IBJP225", "JPY")


def test_contract_for_crypto_is_paxos() -> None:
    contract = contract_for(default_instrument("BTCUSD"))
    assert isinstance(contract, Crypto)
    assert (contract.symbol, contract.exchange, contract.currency) == ("BTC", "PAXOS", "USD")


@pytest.mark.parametrize(
    ("symbol", "problem"),
    [
        ("WTICOUSD", "no contract"),  # IB lists no oil CFD
        ("JP225USD", "no IB index CFD"),  # IB's Nikkei CFD is quoted in JPY
        ("XAUEUR", "against USD only"),
        ("BTCUSDT", "against USD only"),
    ],
)
def test_contract_for_instrument_ib_does_not_list_raises(symbol: str, problem: str) -> None:
    with pytest.raises(IbTranslationError, match=problem):
        contract_for(default_instrument(symbol))


@pytest.mark.parametrize("venue_symbol", ["ES", "ES@", "@CME", "ES@CME:2025", "ES@CME:20251A"])
def test_parse_future_symbol_malformed_raises(venue_symbol: str) -> None:
    with pytest.raises(IbTranslationError):
        parse_future_symbol(venue_symbol)


def test_contract_keys_match_requested_and_reported_future() -> None:
    requested = contract_for(ES_FUTURE)
    reported = Contract(
        secType="FUT",
        conId=495512563,
        symbol="ES",
        localSymbol="ESZ5",
        lastTradeDateOrContractMonth="20251219",
        exchange="CME",
        currency="USD",
    )
    assert contract_keys(requested) & contract_keys(reported)


def test_contract_keys_of_stock_ignore_exchange_details() -> None:
    reported = Contract(
        secType="STK",
        conId=265598,
        symbol="AAPL",
        currency="USD",
        exchange="NASDAQ",
        primaryExchange="NASDAQ",
        localSymbol="AAPL",
    )
    assert contract_keys(reported) == contract_keys(contract_for(default_instrument("AAPL")))


@pytest.mark.parametrize(
    ("contract", "expected"),
    [
        (Contract(secType="CASH", symbol="EUR", currency="USD"), "EURUSD"),
        (Contract(secType="STK", symbol="MSFT", currency="USD"), "MSFT"),
        (Contract(secType="CMDTY", symbol="XAUUSD", currency="USD"), "XAUUSD"),
        (Contract(secType="CFD", symbol="IBDE40", currency="EUR"), "DE40EUR"),
        (Contract(secType="CFD", symbol="IBGB100", currency="GBP"), "UK100GBP"),
        (Contract(secType="FUT", symbol="ES", localSymbol="ESZ5", currency="USD"), "ESZ5"),
        (Contract(secType="CRYPTO", symbol="ETH", currency="USD"), "ETHUSD"),
    ],
)
def test_instrument_id_for_unknown_contract_is_derived_from_it(
    contract: Contract, expected: str
) -> None:
    assert instrument_id_for_contract(contract) == expected
