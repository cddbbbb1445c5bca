"""Position sizing: turn a BUY or SELL signal without a quantity into an order quantity.

Each account configures one sizing policy. ``size_signal`` applies it and returns a
quantity on the instrument's lot grid, rounded down, never above the order caps, and
at least the instrument's minimum quantity and minimum notional; otherwise it raises
``SizingError`` with a stable code.

Currencies: ``equity`` and the notional of ``FixedNotional`` are in the account's
currency; prices, ``min_notional`` and the ``SizingCaps`` notional are in the
instrument's quote currency. ``fx_rate`` is the number of account-currency units per
one quote-currency unit (``FxRates.rate(quote_currency, account_currency)``). When
the two currencies differ and the rate is unknown, sizing by notional fails with
``FX_RATE_UNKNOWN``: the rate is never guessed.

Arithmetic is exact Decimal at 60 significant digits with every inexact step rounded
toward zero (floor), so rounding can only make a size smaller, never larger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any, Final, Literal, TypeAlias

from alphintra.domain.enums import SignalAction
from alphintra.domain.instruments import Instrument
from alphintra.domain.signals import TradingSignal
from alphintra.domain.values import (
    ONE,
    ZERO,
    Currency,
    Quantity,
    ValueRangeError,
    to_decimal,
)

_PRECISION: Final = 60
_HUNDRED: Final = Decimal(100)


class SizingError(ValueError):
    """A signal cannot be sized; ``code`` is stable, the message shows the values received.

    Codes: ``INVALID_POLICY``, ``INVALID_CAPS``, ``UNSUPPORTED_ACTION``,
    ``INVALID_CONFIDENCE``, ``INVALID_PRICE``, ``NON_POSITIVE_EQUITY``,
    ``INVALID_FX_RATE``, ``FX_RATE_UNKNOWN``, ``INCONSISTENT_FX_RATE``,
    ``BELOW_MIN_CONFIDENCE``, ``MISSING_PRICES``, ``INVALID_PRICES``,
    ``NEGATIVE_EDGE``, ``BELOW_LOT_SIZE``, ``BELOW_MIN_QUANTITY``, ``BELOW_MIN_NOTIONAL``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _is_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _require_positive(owner: str, name: str, value: object) -> None:
    if not (isinstance(value, Decimal) and value.is_finite() and value > ZERO):
        raise SizingError(
            "INVALID_POLICY", f"{owner}.{name} must be a positive Decimal, got {value!r}"
        )


def _require_between(
    owner: str, name: str, value: object, low: Decimal, high: Decimal, *, low_open: bool
) -> None:
    ok = _is_decimal(value)
    if ok:
        assert isinstance(value, Decimal)
        ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        bracket = "(" if low_open else "["
        raise SizingError(
            "INVALID_POLICY",
            f"{owner}.{name} must be a Decimal in {bracket}{low}, {high}], got {value!r}",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FixedQuantity:
    """Size every signal at ``quantity`` instrument units (then rounded down to the lot)."""

    quantity: Decimal
    kind: Literal["fixed_quantity"] = field(default="fixed_quantity", init=False)

    def __post_init__(self) -> None:
        _require_positive(self.kind, "quantity", self.quantity)


@dataclass(frozen=True, slots=True, kw_only=True)
class FixedNotional:
    """Size every signal at ``notional`` in the account currency.

    quantity = notional / fx_rate / (price × multiplier).
    """

    notional: Decimal
    kind: Literal["fixed_notional"] = field(default="fixed_notional", init=False)

    def __post_init__(self) -> None:
        _require_positive(self.kind, "notional", self.notional)


@dataclass(frozen=True, slots=True, kw_only=True)
class PercentOfEquity:
    """Size every signal at ``percent`` of equity, then as ``FixedNotional``.

    ``percent`` is in percent (``2`` means 2 %). Above 100 means leverage.
    """

    percent: Decimal
    kind: Literal["percent_of_equity"] = field(default="percent_of_equity", init=False)

    def __post_init__(self) -> None:
        _require_positive(self.kind, "percent", self.percent)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfidenceScaled:
    """Scale the notional of ``base`` by the signal's confidence.

    notional = base notional × confidence. A confidence below ``min_confidence``
    sizes nothing: ``SizingError`` with code ``BELOW_MIN_CONFIDENCE``.
    """

    base: FixedNotional | PercentOfEquity
    min_confidence: Decimal = ZERO
    kind: Literal["confidence_scaled"] = field(default="confidence_scaled", init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.base, FixedNotional | PercentOfEquity):
            raise SizingError(
                "INVALID_POLICY",
                f"{self.kind}.base must be a fixed_notional or percent_of_equity policy, "
                f"got {self.base!r}",
            )
        _require_between(
            self.kind, "min_confidence", self.min_confidence, ZERO, ONE, low_open=False
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FractionalKelly:
    """Allocate a fraction of the Kelly-optimal share of equity to the position.

    With win probability p = confidence and reward/risk b = (takeProfit − entry) /
    (entry − stopLoss) for a BUY, or (entry − takeProfit) / (stopLoss − entry) for a
    SELL, the Kelly fraction is f* = p − (1 − p) / b and f = ``fraction`` × f*.

    Interpretation: f is the fraction of equity *allocated to the position*, so the
    position notional is equity × f, capped at ``max_percent_of_equity`` % of equity.
    The amount at risk if the stop is hit is then only equity × f × |entry − stopLoss|
    / entry: this is more conservative than the textbook bet-size reading, in which
    f is the fraction of equity *lost* at the stop. ``entryPrice``, ``stopLoss`` and
    ``takeProfit`` must be on the signal (code ``MISSING_PRICES``); f ≤ 0 means no
    edge (code ``NEGATIVE_EDGE``).
    """

    max_percent_of_equity: Decimal
    fraction: Decimal = Decimal("0.25")
    kind: Literal["fractional_kelly"] = field(default="fractional_kelly", init=False)

    def __post_init__(self) -> None:
        _require_between(self.kind, "fraction", self.fraction, ZERO, ONE, low_open=True)
        _require_between(
            self.kind,
            "max_percent_of_equity",
            self.max_percent_of_equity,
            ZERO,
            _HUNDRED,
            low_open=True,
        )


SizingPolicy: TypeAlias = (
    FixedQuantity | FixedNotional | PercentOfEquity | ConfidenceScaled | FractionalKelly
)
"""Any sizing policy; the ``kind`` field tells them apart in configuration."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SizingCaps:
    """Upper bounds for a sized order, mirroring the order limits of pre-trade risk.

    ``max_order_notional`` is in the instrument's quote currency, computed as
    quantity × price × multiplier like the risk check. ``None`` disables a cap.
    """

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("max_order_quantity", "max_order_notional"):
            value = getattr(self, name)
            if value is not None and (not _is_decimal(value) or value <= ZERO):
                raise SizingError(
                    "INVALID_CAPS", f"{name} must be a positive Decimal or None, got {value!r}"
                )


def size_signal(
    policy: SizingPolicy,
    *,
    signal: TradingSignal,
    instrument: Instrument,
    price: Decimal,
    equity: Decimal,
    account_currency: Currency,
    fx_rate: Decimal | None,
    limits: SizingCaps | None,
) -> Quantity:
    """Return the quantity for ``signal`` under ``policy``, rounded down to the lot size.

    ``price`` is the entry price (or the current mark for a market order) in the quote
    currency; ``equity`` is in ``account_currency``; ``fx_rate`` is account-currency
    units per quote-currency unit, or None when unknown or not needed. The result
    never exceeds ``limits``. ``signal.quantity`` is ignored: the caller sizes only
    signals without one. Raise ``SizingError`` when no valid positive quantity exists.
    """
    if signal.action not in (SignalAction.BUY, SignalAction.SELL):
        raise SizingError(
            "UNSUPPORTED_ACTION", f"only BUY and SELL signals are sized, got {signal.action}"
        )
    confidence = signal.confidence
    if not _is_decimal(confidence) or not ZERO <= confidence <= ONE:
        raise SizingError(
            "INVALID_CONFIDENCE", f"confidence must be a Decimal in [0, 1], got {confidence!r}"
        )
    if not _is_decimal(price) or price <= ZERO:
        raise SizingError("INVALID_PRICE", f"price must be a positive Decimal, got {price!r}")
    if fx_rate is not None and (not _is_decimal(fx_rate) or fx_rate <= ZERO):
        raise SizingError(
            "INVALID_FX_RATE", f"fx_rate must be a positive Decimal or None, got {fx_rate!r}"
        )
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = ROUND_FLOOR
        sizer = _Sizer(signal, instrument, price, equity, account_currency, fx_rate)
        raw = sizer.raw_quantity(policy)
        return _fit(raw, instrument, price, limits, policy.kind)


@dataclass(frozen=True, slots=True)
class _Sizer:
    signal: TradingSignal
    instrument: Instrument
    price: Decimal
    equity: Decimal
    account_currency: Currency
    fx_rate: Decimal | None

    def raw_quantity(self, policy: SizingPolicy) -> Decimal:
        if isinstance(policy, FixedQuantity):
            return policy.quantity
        if isinstance(policy, FractionalKelly):
            return self.quantity_for(self.kelly_notional(policy))
        if isinstance(policy, ConfidenceScaled):
            confidence = self.signal.confidence
            if confidence < policy.min_confidence:
                raise SizingError(
                    "BELOW_MIN_CONFIDENCE",
                    f"confidence {confidence} is below the policy minimum {policy.min_confidence}",
                )
            return self.quantity_for(self.base_notional(policy.base) * confidence)
        return self.quantity_for(self.base_notional(policy))

    def base_notional(self, policy: FixedNotional | PercentOfEquity) -> Decimal:
        if isinstance(policy, FixedNotional):
            return policy.notional
        return self.positive_equity(policy.kind) * policy.percent / _HUNDRED

    def positive_equity(self, kind: str) -> Decimal:
        equity = self.equity
        if not _is_decimal(equity) or equity <= ZERO:
            raise SizingError(
                "NON_POSITIVE_EQUITY",
                f"{kind} sizing needs positive equity, got {equity!r} {self.account_currency}",
            )
        return equity

    def quantity_for(self, notional: Decimal) -> Decimal:
        """Convert an account-currency notional to instrument units at ``price``."""
        instrument = self.instrument
        quote = instrument.quote_currency
        if quote == self.account_currency:
            if self.fx_rate is not None and self.fx_rate != ONE:
                raise SizingError(
                    "INCONSISTENT_FX_RATE",
                    f"{instrument.id} is quoted in the account currency {quote}, so fx_rate "
                    f"must be None or 1, got {self.fx_rate}",
                )
            in_quote = notional
        elif self.fx_rate is None:
            raise SizingError(
                "FX_RATE_UNKNOWN",
                f"notional {notional} {self.account_currency} must be converted to "
                f"{quote} to size {instrument.id}, but no {self.account_currency} per "
                f"{quote} rate was given",
            )
        else:
            in_quote = notional / self.fx_rate
        return in_quote / (self.price * instrument.multiplier)

    def kelly_notional(self, policy: FractionalKelly) -> Decimal:
        signal = self.signal
        entry, stop, target = signal.entry_price, signal.stop_loss, signal.take_profit
        if entry is None or stop is None or target is None:
            given = {"entryPrice": entry, "stopLoss": stop, "takeProfit": target}
            missing = [name for name, value in given.items() if value is None]
            raise SizingError(
                "MISSING_PRICES",
                f"fractional_kelly sizing needs entryPrice, stopLoss and takeProfit; "
                f"missing {missing} (entryPrice={entry}, stopLoss={stop}, takeProfit={target})",
            )
        if signal.action is SignalAction.BUY:
            valid, reward, risk, order = stop < entry < target, target - entry, entry - stop, "<"
        else:
            valid, reward, risk, order = target < entry < stop, entry - target, stop - entry, ">"
        if not valid:
            raise SizingError(
                "INVALID_PRICES",
                f"a {signal.action} needs stopLoss {order} entryPrice {order} takeProfit, got "
                f"stopLoss={stop}, entryPrice={entry}, takeProfit={target}",
            )
        p = signal.confidence
        b = reward / risk
        f_star = p - (ONE - p) / b
        f = policy.fraction * f_star
        if f <= ZERO:
            raise SizingError(
                "NEGATIVE_EDGE",
                f"no Kelly edge: p={p}, b={b}, f*=p-(1-p)/b={f_star}, "
                f"f=fraction {policy.fraction} × f*={f}",
            )
        equity = self.positive_equity(policy.kind)
        return min(equity * f, equity * policy.max_percent_of_equity / _HUNDRED)


def _fit(
    raw: Decimal, instrument: Instrument, price: Decimal, caps: SizingCaps | None, kind: str
) -> Quantity:
    """Cap ``raw``, round it down to the lot grid and check the instrument minimums."""
    capped = raw
    max_notional = None if caps is None else caps.max_order_notional
    if caps is not None and caps.max_order_quantity is not None:
        capped = min(capped, caps.max_order_quantity)
    if max_notional is not None:
        capped = min(capped, max_notional / (price * instrument.multiplier))
    quantity = instrument.round_quantity_down(capped)
    # Floor rounding already keeps the notional within the cap; this guard makes the
    # invariant independent of that reasoning.
    while (
        max_notional is not None
        and quantity > ZERO
        and instrument.notional(quantity, price) > max_notional
    ):
        quantity = instrument.round_quantity_down(quantity - instrument.lot_size)
    sized = f"{kind} sized {raw}" + (f" (capped to {capped})" if capped != raw else "")
    if quantity <= ZERO:
        raise SizingError(
            "BELOW_LOT_SIZE",
            f"{sized}, below one lot ({instrument.lot_size}) of {instrument.id}",
        )
    if quantity < instrument.min_quantity:
        raise SizingError(
            "BELOW_MIN_QUANTITY",
            f"{sized}, rounded down to {quantity}: below the minimum quantity "
            f"{instrument.min_quantity} of {instrument.id}",
        )
    notional = instrument.notional(quantity, price)
    if notional < instrument.min_notional:
        raise SizingError(
            "BELOW_MIN_NOTIONAL",
            f"{sized}, rounded down to {quantity}: notional {notional} "
            f"{instrument.quote_currency} at price {price} is below the minimum "
            f"{instrument.min_notional} of {instrument.id}",
        )
    return quantity


# -- configuration -------------------------------------------------------------------

_KINDS: Final[dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    # kind: (required keys, optional keys), besides "kind" itself
    "fixed_quantity": (frozenset({"quantity"}), frozenset()),
    "fixed_notional": (frozenset({"notional"}), frozenset()),
    "percent_of_equity": (frozenset({"percent"}), frozenset()),
    "confidence_scaled": (frozenset({"base"}), frozenset({"min_confidence"})),
    "fractional_kelly": (frozenset({"max_percent_of_equity"}), frozenset({"fraction"})),
}


def sizing_policy_from_mapping(data: Mapping[str, Any]) -> SizingPolicy:
    """Build a sizing policy from a configuration mapping such as ``{"kind": ..., ...}``.

    Numbers may be Decimals, integers or decimal strings; floats are refused. Unknown
    keys, missing keys and bad values raise ``SizingError`` with code
    ``INVALID_POLICY`` naming the key and the value received.
    """
    return _policy_from_mapping(data, "sizing")


def _policy_from_mapping(data: object, where: str) -> SizingPolicy:
    if not isinstance(data, Mapping):
        raise SizingError(
            "INVALID_POLICY", f"{where} must be a mapping, got {type(data).__name__} {data!r}"
        )
    kinds = sorted(_KINDS)
    if "kind" not in data:
        raise SizingError("INVALID_POLICY", f"{where}.kind is missing; expected one of {kinds}")
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in _KINDS:
        raise SizingError("INVALID_POLICY", f"{where}.kind must be one of {kinds}, got {kind!r}")
    required, optional = _KINDS[kind]
    allowed = required | optional | {"kind"}
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise SizingError(
            "INVALID_POLICY",
            f"{where}: unknown keys {unknown} for kind {kind!r}; allowed: {sorted(allowed)}",
        )
    missing = sorted(required - set(data))
    if missing:
        raise SizingError("INVALID_POLICY", f"{where}: missing keys {missing} for kind {kind!r}")

    def number(key: str, default: Decimal | None = None) -> Decimal:
        if key not in data and default is not None:
            return default
        try:
            return to_decimal(data[key], f"{where}.{key}")
        except ValueRangeError as exc:
            raise SizingError("INVALID_POLICY", str(exc)) from None

    if kind == "confidence_scaled":
        base = _policy_from_mapping(data["base"], f"{where}.base")
        if not isinstance(base, FixedNotional | PercentOfEquity):
            raise SizingError(
                "INVALID_POLICY",
                f"{where}.base.kind must be 'fixed_notional' or 'percent_of_equity', "
                f"got {base.kind!r}",
            )
        min_confidence = number("min_confidence", ZERO)
        return _build(where, lambda: ConfidenceScaled(base=base, min_confidence=min_confidence))
    if kind == "fractional_kelly":
        cap, fraction = number("max_percent_of_equity"), number("fraction", Decimal("0.25"))
        return _build(where, lambda: FractionalKelly(max_percent_of_equity=cap, fraction=fraction))
    if kind == "fixed_quantity":
        quantity = number("quantity")
        return _build(where, lambda: FixedQuantity(quantity=quantity))
    if kind == "fixed_notional":
        notional = number("notional")
        return _build(where, lambda: FixedNotional(notional=notional))
    percent = number("percent")
    return _build(where, lambda: PercentOfEquity(percent=percent))


def _build(where: str, make: Callable[[], SizingPolicy]) -> SizingPolicy:
    """Construct a policy, prefixing a validation error with its place in the config."""
    try:
        return make()
    except SizingError as exc:
        raise SizingError(exc.code, f"{where}: {exc}") from None


def sizing_policy_to_mapping(policy: SizingPolicy) -> dict[str, Any]:
    """Return ``policy`` as a configuration mapping, numbers as decimal strings.

    ``sizing_policy_from_mapping`` reads the result back to an equal policy.
    """
    if isinstance(policy, FixedQuantity):
        return {"kind": policy.kind, "quantity": str(policy.quantity)}
    if isinstance(policy, FixedNotional):
        return {"kind": policy.kind, "notional": str(policy.notional)}
    if isinstance(policy, PercentOfEquity):
        return {"kind": policy.kind, "percent": str(policy.percent)}
    if isinstance(policy, ConfidenceScaled):
        return {
            "kind": policy.kind,
            "base": sizing_policy_to_mapping(policy.base),
            "min_confidence": str(policy.min_confidence),
        }
    return {
        "kind": policy.kind,
        "max_percent_of_equity": str(policy.max_percent_of_equity),
        "fraction": str(policy.fraction),
    }
