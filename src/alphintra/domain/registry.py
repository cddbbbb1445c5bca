"""The instrument registry: explicit definitions, plus defaults per asset class.

A bare symbol such as ``SPY``, ``EURUSD``, ``BTCUSD``, ``XAUUSD`` or ``DE30EUR``
resolves to a sensible instrument without configuration. Explicit definitions
(from a YAML or JSON file, parsed by the application layer) take precedence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
from decimal import Decimal
from typing import Any

from alphintra.domain.enums import AssetClass, InstrumentKind
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.instruments import Instrument, TradingHours, TradingSession
from alphintra.domain.values import ValueRangeError, to_decimal


class UnknownInstrumentError(KeyError):
    """The symbol is neither defined nor recognisable by the defaults."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown instrument"


FIAT = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CHF",
        "AUD",
        "NZD",
        "CAD",
        "SEK",
        "NOK",
        "DKK",
        "HKD",
        "SGD",
        "CNH",
        "MXN",
        "ZAR",
        "TRY",
        "PLN",
        "HUF",
        "CZK",
    ]
)
CRYPTO = frozenset(
    [
        "BTC",
        "ETH",
        "LTC",
        "XRP",
        "SOL",
        "ADA",
        "DOGE",
        "DOT",
        "BNB",
        "AVAX",
        "LINK",
        "BCH",
        "XLM",
        "TRX",
        "MATIC",
    ]
)
STABLE_QUOTES = ("USDT", "USDC", "USD", "EUR", "BTC")
METALS = {"XAU": "0.001", "XAG": "0.0001", "XPT": "0.01", "XPD": "0.01"}
INDEX_CFDS = {
    "DE30EUR": ("EUR", "0.1"),
    "DE40EUR": ("EUR", "0.1"),
    "SPX500USD": ("USD", "0.1"),
    "NAS100USD": ("USD", "0.1"),
    "US30USD": ("USD", "1"),
    "UK100GBP": ("GBP", "0.1"),
    "JP225USD": ("USD", "1"),
    "FR40EUR": ("EUR", "0.1"),
}
COMMODITY_CFDS = {"WTICOUSD": "0.001", "BCOUSD": "0.001", "NATGASUSD": "0.001"}
US_EQUITY_HOURS = TradingHours(
    timezone="America/New_York",
    sessions=(TradingSession(frozenset({1, 2, 3, 4, 5}), time(9, 30), time(16, 0)),),
)
ETFS = frozenset(["SPY", "QQQ", "IWM", "EEM", "USO", "GLD", "TLT", "DIA", "VTI", "XLF", "XLE"])


def default_instrument(symbol: str) -> Instrument:
    """Return the default definition for a recognisable bare symbol, or raise."""
    s = symbol.upper()
    iid = InstrumentId(s)
    if s in INDEX_CFDS:
        quote, tick = INDEX_CFDS[s]
        return Instrument(
            iid,
            s,
            AssetClass.INDEX,
            InstrumentKind.CFD,
            s[: -len(quote)],
            quote,
            Decimal(tick),
            Decimal("0.1"),
            min_quantity=Decimal("0.1"),
        )
    if s in COMMODITY_CFDS:
        return Instrument(
            iid,
            s,
            AssetClass.COMMODITY,
            InstrumentKind.CFD,
            s[:-3],
            "USD",
            Decimal(COMMODITY_CFDS[s]),
            Decimal(1),
            min_quantity=Decimal(1),
        )
    if len(s) == 6 and s[:3] in METALS:
        return Instrument(
            iid,
            s,
            AssetClass.COMMODITY,
            InstrumentKind.CFD,
            s[:3],
            s[3:],
            Decimal(METALS[s[:3]]),
            Decimal(1),
            min_quantity=Decimal(1),
        )
    if len(s) == 6 and s[:3] in FIAT and s[3:] in FIAT:
        tick = "0.001" if "JPY" in s or "HUF" in s else "0.00001"
        return Instrument(
            iid,
            s,
            AssetClass.FX,
            InstrumentKind.SPOT,
            s[:3],
            s[3:],
            Decimal(tick),
            Decimal(1),
            min_quantity=Decimal(1),
        )
    for quote in STABLE_QUOTES:
        base = s[: -len(quote)]
        if s.endswith(quote) and base in CRYPTO:
            return Instrument(
                iid,
                s,
                AssetClass.CRYPTO,
                InstrumentKind.SPOT,
                base,
                quote,
                Decimal("0.01"),
                Decimal("0.00000001"),
                min_notional=Decimal(1),
            )
    if 1 <= len(s) <= 5 and s.isalpha():
        return Instrument(
            iid,
            s,
            AssetClass.EQUITY,
            InstrumentKind.ETF if s in ETFS else InstrumentKind.STOCK,
            s,
            "USD",
            Decimal("0.01"),
            Decimal(1),
            min_quantity=Decimal(1),
            trading_hours=US_EQUITY_HOURS,
        )
    raise UnknownInstrumentError(
        f"unknown symbol {symbol!r}: not defined in the instrument file and not a "
        "recognisable equity, FX pair, crypto pair, metal or index CFD"
    )


_FIELDS = {
    "venue_symbol",
    "asset_class",
    "kind",
    "base_currency",
    "quote_currency",
    "tick_size",
    "lot_size",
    "min_quantity",
    "min_notional",
    "multiplier",
    "venue",
    "sector",
    "trading_hours",
}


def instrument_from_mapping(symbol: str, spec: Mapping[str, Any]) -> Instrument:
    """Build an instrument from a file entry; defaults fill the fields it omits."""
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ValueRangeError(
            f"instrument {symbol}: unknown keys {sorted(unknown)}; allowed: {sorted(_FIELDS)}"
        )
    try:
        base = default_instrument(symbol)
        defaults: dict[str, Any] = {
            name: getattr(base, name) for name in _FIELDS if name != "trading_hours"
        }
        defaults["trading_hours"] = base.trading_hours
    except UnknownInstrumentError:
        required = {"asset_class", "kind", "base_currency", "quote_currency", "tick_size"}
        missing = required - set(spec)
        if missing:
            raise ValueRangeError(
                f"instrument {symbol}: not a recognisable symbol, so {sorted(missing)} "
                "must be given"
            ) from None
        defaults = {"venue_symbol": symbol, "lot_size": Decimal(1), "trading_hours": None}
    merged = {**defaults, **spec}
    try:
        hours = merged.get("trading_hours")
        return Instrument(
            id=InstrumentId(symbol),
            venue_symbol=str(merged.get("venue_symbol", symbol)),
            asset_class=AssetClass(merged["asset_class"]),
            kind=InstrumentKind(merged["kind"]),
            base_currency=str(merged["base_currency"]),
            quote_currency=str(merged["quote_currency"]),
            tick_size=to_decimal(merged["tick_size"], f"{symbol}.tick_size"),
            lot_size=to_decimal(merged["lot_size"], f"{symbol}.lot_size"),
            min_quantity=to_decimal(merged.get("min_quantity", 0), f"{symbol}.min_quantity"),
            min_notional=to_decimal(merged.get("min_notional", 0), f"{symbol}.min_notional"),
            multiplier=to_decimal(merged.get("multiplier", 1), f"{symbol}.multiplier"),
            venue=VenueId(merged["venue"]) if merged.get("venue") else None,
            sector=merged.get("sector"),
            trading_hours=_hours(symbol, hours) if isinstance(hours, Mapping) else hours,
        )
    except (KeyError, ValueError) as exc:
        raise ValueRangeError(f"instrument {symbol}: {exc}") from exc


def _hours(symbol: str, spec: Mapping[str, Any]) -> TradingHours:
    sessions = []
    for entry in spec.get("sessions", ()):
        sessions.append(
            TradingSession(
                frozenset(int(d) for d in entry["weekdays"]),
                time.fromisoformat(str(entry["open"])),
                time.fromisoformat(str(entry["close"])),
            )
        )
    if not sessions:
        raise ValueRangeError(f"instrument {symbol}: trading_hours needs at least one session")
    return TradingHours(timezone=str(spec["timezone"]), sessions=tuple(sessions))


class InstrumentRegistry:
    """Instruments by symbol; unknown bare symbols fall back to the defaults."""

    def __init__(self, instruments: Iterable[Instrument] = (), *, use_defaults: bool = True):
        self._instruments: dict[InstrumentId, Instrument] = {i.id: i for i in instruments}
        self._use_defaults = use_defaults

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, use_defaults: bool = True
    ) -> InstrumentRegistry:
        """Build from ``{"instruments": {SYMBOL: {...}}}`` as read from YAML or JSON."""
        unknown = set(data) - {"instruments"}
        if unknown:
            raise ValueRangeError(f"instrument file: unknown top-level keys {sorted(unknown)}")
        entries = data.get("instruments") or {}
        if not isinstance(entries, Mapping):
            raise ValueRangeError("instrument file: 'instruments' must be a mapping of symbols")
        return cls(
            (instrument_from_mapping(str(k), v or {}) for k, v in entries.items()),
            use_defaults=use_defaults,
        )

    def get(self, symbol: str) -> Instrument:
        """Return the instrument for ``symbol``, resolving defaults; raise when unknown."""
        instrument = self._instruments.get(InstrumentId(symbol))
        if instrument is None:
            if not self._use_defaults:
                raise UnknownInstrumentError(f"unknown symbol {symbol!r}")
            instrument = default_instrument(symbol)
            self._instruments[instrument.id] = instrument
        return instrument

    def __contains__(self, symbol: object) -> bool:
        if not isinstance(symbol, str):
            return False
        try:
            self.get(symbol)
        except UnknownInstrumentError:
            return False
        return True

    def known(self) -> dict[InstrumentId, Instrument]:
        """Return the instruments resolved so far."""
        return dict(self._instruments)
