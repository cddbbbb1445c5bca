"""Request and response bodies of the HTTP API (camelCase JSON), separate from domain types."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from alphintra.domain.enums import OrderSide, OrderType, SignalAction, TimeInForce

MAX_BATCH = 1000


class ApiModel(BaseModel):
    """Strict camelCase models: unknown fields are errors, numbers must be finite."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=False,
        allow_inf_nan=False,
        frozen=True,
        ser_json_inf_nan="strings",
    )


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _date_time_text(value: object) -> object:
    """Accept ISO 8601 text only, as the schema documents (Pydantic also takes Unix numbers)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _NUMBER.fullmatch(value.strip()):
        raise ValueError(
            f"expected an ISO 8601 date-time such as 2024-01-02T03:04:05Z, got {value!r}"
        )
    return value


def _zoned(value: datetime) -> datetime:
    """Refuse a time without a zone: read as UTC, a local time is hours off, silently."""
    if value.tzinfo is None:
        raise ValueError(
            f"must carry a time zone (for example a trailing Z), got {value.isoformat()}"
        )
    return value


DateTimeText = Annotated[datetime, BeforeValidator(_date_time_text), AfterValidator(_zoned)]
"""An ISO 8601 date-time with its time zone."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LIMIT_US = (2**63 - 1) // 1000
EARLIEST = _EPOCH - timedelta(microseconds=_LIMIT_US)
"""The earliest time the journal can store (signed 64-bit nanoseconds, whole microseconds)."""
LATEST = _EPOCH + timedelta(microseconds=_LIMIT_US)
"""The latest time the journal can store."""


def _storable(value: datetime) -> datetime:
    """Refuse a time outside the journal's signed 64-bit nanoseconds (1677 to 2262).

    Stored as it came, such a time overflowed the journal's column when committed, which
    stopped the whole account until a restart. (`DateTimeText` refuses one without a
    zone: read as UTC, a GTD expiry meant in local time expired hours early or late.)
    """
    if not EARLIEST <= value <= LATEST:
        raise ValueError(
            f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}, "
            f"got {value.isoformat()}"
        )
    return value


StorableDateTime = Annotated[DateTimeText, AfterValidator(_storable)]
"""An ISO 8601 time of a request body: with its zone, and one the journal can store."""


def _plain(value: Decimal) -> str:
    """Write a decimal without an exponent ("0.0000001", not "1E-7"), as the schema says."""
    return format(value, "f")


Plain = PlainSerializer(_plain, return_type=str, when_used="json")
"""Serialize a Decimal field in plain notation (Pydantic's default may use an exponent)."""
MAX_PLACES = 38


def _places(value: Decimal) -> Decimal:
    """Refuse a decimal written with more than ``MAX_PLACES`` places (``0E-1000000``).

    Pydantic counts the digits of the normalized value, so such a zero, or a number with
    that many trailing zeros, passed; its plain text (every read of it) then had that
    many characters: a million for ``0E-1000000``, a gigabyte for ``0E-999999999``.
    """
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise ValueError(f"must have at most {MAX_PLACES} decimal places, got {value}")
    return value


Places = AfterValidator(_places)
"""Bound the decimal places of a Decimal field as written (see `_places`)."""
Positive = Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=38), Places, Plain]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")]
Symbol = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._/\-]+$")]


class SignalIn(ApiModel):
    """A trading signal from a model."""

    signalId: Identifier
    modelId: Identifier
    symbol: Symbol
    action: SignalAction
    confidence: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False), Places]
    timestamp: StorableDateTime | None = None
    quantity: Positive | None = None
    entryPrice: Positive | None = None
    priceTarget: Positive | None = None
    stopLoss: Positive | None = None
    takeProfit: Positive | None = None
    orderType: Literal["MARKET", "LIMIT"] = "MARKET"
    timeInForce: TimeInForce = TimeInForce.GTC
    accountId: Identifier | None = None
    targetWeights: (
        dict[Symbol, Annotated[Decimal, Field(ge=-10, le=10, allow_inf_nan=False), Places]] | None
    ) = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamp must carry a time zone (for example a trailing Z)")
        return value.astimezone(UTC) if value is not None else None

    @model_validator(mode="after")
    def _nothing_dropped(self) -> SignalIn:
        """Refuse fields the signal's action would drop, and weights named twice."""
        if self.timeInForce is TimeInForce.GTD:
            raise ValueError(
                "timeInForce GTD is not for signals (a signal carries no expiry); "
                "use DAY, GTC, IOC or FOK, got GTD"
            )
        if self.action is not SignalAction.REBALANCE:
            if self.targetWeights is not None:
                raise ValueError(
                    f"targetWeights is for REBALANCE signals only, got it on {self.action.value}"
                )
            return self
        for name in ("quantity", "stopLoss", "takeProfit"):
            if getattr(self, name) is not None:
                raise ValueError(
                    f"a REBALANCE signal trades its targetWeights and takes no {name}, "
                    f"got {name} {getattr(self, name)}"
                )
        seen: dict[str, str] = {}
        for key in self.targetWeights or {}:
            if (first := seen.setdefault(key.upper(), key)) != key:
                raise ValueError(
                    f"targetWeights names {key.upper()} twice (symbols are case-insensitive), "
                    f"got {first!r} and {key!r}"
                )
        return self

    @field_validator("metadata")
    @classmethod
    def _finite(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = _non_finite(value, "")
        if bad is not None:
            path, number = bad
            raise ValueError(f"metadata{path} must be a finite number, got {number}")
        return value


def _non_finite(value: object, path: str) -> tuple[str, float] | None:
    """Return the path and value of the first NaN or infinity inside ``value``."""
    stack: list[tuple[str, object]] = [(path, value)]
    while stack:  # iterative: a deeply nested document must not exhaust the call stack
        where, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where, item
        if isinstance(item, dict):
            stack.extend((f"{where}.{k}", v) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(item))))
    return None


class SignalBatchIn(ApiModel):
    """Up to 1,000 signals."""

    signals: Annotated[list[SignalIn], Field(min_length=1, max_length=MAX_BATCH)]


class SignalResult(ApiModel):
    """What became of a signal."""

    signalId: str
    status: Literal["PENDING", "ACCEPTED", "REJECTED", "EXECUTED", "PARTIALLY_EXECUTED"]
    reasonCode: str | None = None
    reason: str | None = None
    orderIds: list[str]
    duplicate: bool = False


class BatchItemError(ApiModel):
    """A signal of a batch that was refused."""

    signalId: str
    status: Literal["INVALID"]
    code: str
    detail: str


class SignalBatchResult(ApiModel):
    """Results of a batch, in request order."""

    results: list[SignalResult | BatchItemError]


class SignalFeedback(ApiModel):
    """Feedback for the model that sent a signal."""

    orders: int
    fills: int
    filledQuantity: str
    averagePrice: str | None
    slippageBps: str | None
    """Signed against the order: positive means worse than the reference."""
    reference: str | None
    """entryPrice when given, else the mid at arrival."""
    realizedPnL: str | None


class SignalView(ApiModel):
    """A signal with its status and feedback."""

    signalId: str
    modelId: str
    accountId: str
    symbol: str
    action: SignalAction
    confidence: str
    quantity: str | None
    receivedAt: datetime
    status: str
    reasonCode: str | None
    reason: str | None
    orderIds: list[str]
    feedback: SignalFeedback


class AlgoIn(ApiModel):
    """An execution algorithm that works the order as a parent of child orders.

    TWAP and VWAP need ``endTime``; TWAP takes ``slices`` or ``intervalSeconds``. POV
    needs ``participation`` (a fraction, e.g. 0.1). ICEBERG needs ``displayQuantity``
    and a LIMIT order. SOR splits the order across ``venues`` (default: every venue
    with routing terms) at the least expected cost, priced with ``impactCoefficient``,
    ``volatilityPerMs`` and ``rerouteCost`` (fractions of the mid), and re-routes what
    is not filled up to ``maxAttempts`` decisions under ``failurePolicy``. The order's
    limit price, when given, is the guard no child crosses. ``startTime`` defaults to
    now.
    """

    type: Literal["TWAP", "VWAP", "POV", "ICEBERG", "SOR"]
    startTime: StorableDateTime | None = None
    endTime: StorableDateTime | None = None
    slices: Annotated[int, Field(ge=1, le=10_000)] | None = None
    intervalSeconds: Annotated[int, Field(ge=1, le=86_400)] | None = None
    sizeJitter: Annotated[Decimal, Field(ge=0, lt=1, allow_inf_nan=False), Places] = Decimal(0)
    timeJitter: Annotated[Decimal, Field(ge=0, lt=1, allow_inf_nan=False), Places] = Decimal(0)
    participation: Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False), Places] | None = None
    minChildQuantity: Positive | None = None
    maxChildQuantity: Positive | None = None
    displayQuantity: Positive | None = None
    finishAggressively: bool | None = None
    venues: Annotated[list[Identifier], Field(max_length=32)] | None = None
    impactCoefficient: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False), Places] = Decimal(
        0
    )
    volatilityPerMs: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False), Places] = Decimal(0)
    rerouteCost: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False), Places] = Decimal(0)
    maxAttempts: Annotated[int, Field(ge=1, le=100)] = 3
    failurePolicy: Literal["EXCLUDE", "PENALISE"] = "EXCLUDE"


class OrderIn(ApiModel):
    """A direct order."""

    symbol: Symbol
    side: OrderSide
    type: OrderType
    quantity: Positive
    price: Positive | None = None
    stopPrice: Positive | None = None
    trailingOffset: Positive | None = None
    trailingOffsetType: Literal["PRICE", "PERCENT"] | None = None
    displayQuantity: Positive | None = None
    timeInForce: TimeInForce = TimeInForce.GTC
    expireTime: StorableDateTime | None = None
    clientOrderId: Identifier | None = None
    accountId: Identifier | None = None
    reduceOnly: bool = False
    postOnly: bool = False
    stopLoss: Positive | None = None
    takeProfit: Positive | None = None
    algo: AlgoIn | None = None

    @model_validator(mode="after")
    def _nothing_ignored(self) -> OrderIn:
        """Refuse fields the order would keep and never act on."""
        if self.expireTime is not None and self.timeInForce is not TimeInForce.GTD:
            raise ValueError(
                f"expireTime is for GTD orders only (a {self.timeInForce.value} order does "
                f"not expire), got expireTime {self.expireTime.isoformat()}"
            )
        if self.trailingOffsetType is not None and self.trailingOffset is None:
            raise ValueError(f"trailingOffsetType {self.trailingOffsetType} needs a trailingOffset")
        return self


class OrderPatch(ApiModel):
    """Fields of an order that can change."""

    quantity: Positive | None = None
    price: Positive | None = None
    stopPrice: Positive | None = None

    @model_validator(mode="after")
    def _something(self) -> OrderPatch:
        if self.quantity is None and self.price is None and self.stopPrice is None:
            raise ValueError("give at least one of quantity, price or stopPrice")
        return self


class ChildOrderView(ApiModel):
    """A child of an execution parent."""

    orderId: str
    status: str
    quantity: str
    filledQuantity: str
    averagePrice: str | None
    createdAt: datetime
    venue: str | None = None


class RoutedVenueView(ApiModel):
    """One venue's share of a routing decision and its expected cost."""

    venue: str
    quantity: str
    capacity: str
    limitPrice: str | None
    averagePrice: str | None
    expectedCost: str


class RoutingView(ApiModel):
    """A smart order routing decision: the split, its expected cost and every input.

    ``record`` is the journaled decision in full (books, fees, latencies, fill
    probabilities, limits, cost model), decimals as strings.
    """

    attempt: int
    method: str
    referenceMid: str
    routedQuantity: str
    remainder: str
    expectedCost: str
    failedVenues: list[str]
    allocations: list[RoutedVenueView]
    explanation: str
    record: dict[str, Any]


class OrderView(ApiModel):
    """An order as the API reports it."""

    orderId: str
    accountId: str
    symbol: str
    side: OrderSide
    type: OrderType
    status: str
    quantity: str
    filledQuantity: str
    averagePrice: str | None
    price: str | None
    stopPrice: str | None
    timeInForce: TimeInForce
    signalId: str | None
    parentId: str | None
    linkedOrderIds: list[str]
    venueOrderId: str | None
    createdAt: datetime
    updatedAt: datetime
    algo: str | None = None
    children: list[ChildOrderView] | None = None
    """For an algo or iceberg parent: its child orders and their progress."""
    routing: list[RoutingView] | None = None
    """For a smart order routing parent: its routing decisions, oldest first."""


class OrderList(ApiModel):
    """A page of orders."""

    items: list[OrderView]
    total: int
    offset: int
    limit: int


class TradeView(ApiModel):
    """One fill."""

    tradeId: str
    orderId: str
    accountId: str
    symbol: str
    side: OrderSide
    quantity: str
    price: str
    fee: str
    feeCurrency: str
    liquidity: str
    venue: str
    executedAt: datetime


class TradeList(ApiModel):
    """A page of fills."""

    items: list[TradeView]
    total: int
    offset: int
    limit: int


class PositionView(ApiModel):
    """A net position."""

    accountId: str
    symbol: str
    side: Literal["LONG", "SHORT", "FLAT"]
    quantity: str
    averagePrice: str | None
    marketValue: str | None
    unrealizedPnL: str | None
    realizedPnL: str
    currency: str
    openedAt: datetime | None


class PortfolioView(ApiModel):
    """Account valuation in its base currency."""

    accountId: str
    currency: str
    totalValue: str
    cashBalance: str
    positionsValue: str
    unrealizedPnL: str
    realizedPnL: str
    dailyPnL: str
    totalReturn: str
    sharpeRatio: float | None
    maxDrawdown: str
    fees: str
    unconverted: dict[str, str]
    tradingState: str
    lastUpdated: datetime


class PortfolioPoint(ApiModel):
    """One portfolio snapshot."""

    timestamp: datetime
    totalValue: str
    cashBalance: str


class MonitorLimitsBody(ApiModel):
    """Thresholds of the real-time monitors; null disables one."""

    maxDrawdown: (
        Annotated[Decimal, Field(gt=0, lt=1, allow_inf_nan=False), Places, Plain] | None
    ) = None
    dailyLossLimit: Positive | None = None
    flattenOnDrawdown: bool = False
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    volatilityWindow: Annotated[int, Field(ge=2, le=10_000)] = 30
    volatilityThreshold: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    jumpThreshold: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    reduceFraction: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False), Places, Plain] = (
        Decimal("0.5")
    )
    tightenFactor: Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False), Places, Plain] = (
        Decimal("0.5")
    )
    cooldownSeconds: Annotated[int, Field(ge=0, le=86_400)] = 300


class RiskLimitsBody(ApiModel):
    """Risk limits of an account; null disables a limit."""

    maxOrderQuantity: Positive | None = None
    maxOrderNotional: Positive | None = None
    maxPositionQuantity: Positive | None = None
    maxPositionNotional: Positive | None = None
    enforceMinNotional: bool = True
    enforceTradingHours: bool = False
    monitors: MonitorLimitsBody = Field(default_factory=MonitorLimitsBody)
    limits: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Every limit in the configuration's form (snake_case keys, decimals as strings; "
            "see README, Risk limits). A GET fills it. On a PUT it replaces all of the "
            "account's limits; the flat fields above that the body carries then override "
            "it. Absent or null: only the flat fields change. Unknown keys, floats, "
            "negative or malformed values are refused with 422 naming the key and value."
        ),
        examples=[
            {
                "max_order_quantity": "1000",
                "restricted_symbols": ["GME"],
                "exposure": {"max_gross_exposure": "5000000", "max_leverage": "3"},
                "loss": {"max_daily_loss": "25000", "max_drawdown": "0.1"},
                "account_throttle": {"window_ms": 1000, "max_orders": 50},
            }
        ],
    )

    @field_validator("limits", mode="before")
    @classmethod
    def _floats(cls, value: object) -> object:
        """Give the mapping its JSON numbers with a fraction as floats, which it refuses.

        The API reads such numbers as exact decimals; the configuration form takes
        decimals as strings or integers only, and names a float as one.
        """
        return _as_floats(value)


class _JsonFloat(float):
    """A float that shows as the JSON text it was read from (``1e-400``, not ``0.0``)."""

    text: str

    def __new__(cls, number: Decimal) -> _JsonFloat:
        made = super().__new__(cls, number)
        made.text = str(number)
        return made

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def _as_floats(value: object) -> object:
    """Return ``value`` with every Decimal inside it as a float showing its text."""
    if isinstance(value, Decimal):
        return _JsonFloat(value)
    if isinstance(value, dict):
        return {k: _as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_floats(v) for v in value]
    return value


class EmergencyStopIn(ApiModel):
    """Why trading is being stopped."""

    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]
    """Recorded in the audit trail: blanks only are refused."""
    accountId: Identifier | None = None


class EmergencyStopResult(ApiModel):
    """Outcome of an emergency stop."""

    accountId: str
    tradingState: str
    cancelledOrders: int


MAX_CASH = 10**15
"""A starting cash must be below this (see `AccountIn.startingCash`)."""


class AccountIn(ApiModel):
    """A new trading account."""

    accountId: Identifier
    venue: Literal["SIM"] = "SIM"
    baseCurrency: Annotated[str, Field(pattern=r"^[A-Z]{3,5}$")] = "USD"
    startingCash: Annotated[
        Decimal, Field(gt=0, lt=MAX_CASH, decimal_places=8, allow_inf_nan=False), Places, Plain
    ] = Decimal(1_000_000)
    """Below 10^15 with at most 8 places: cash and fills then stay well inside the 28
    significant digits of the engine's decimal arithmetic (more were rounded by the
    first fill)."""
    credentials: dict[str, str] | None = None
    """Broker credentials; stored encrypted, never returned."""


class AccountView(ApiModel):
    """A trading account (credentials are never shown)."""

    accountId: str
    owner: str
    venue: str
    baseCurrency: str
    hasCredentials: bool
    tradingState: str


class Readiness(ApiModel):
    """Whether the service can take traffic, and each check behind the answer."""

    status: Literal["ready", "not ready"]
    checks: dict[str, bool]


class Problem(ApiModel):
    """An error (RFC 9457 problem details) with a stable code."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str
    errors: list[dict[str, Any]] | None = None


class VarFigure(ApiModel):
    """Value at risk (and expected shortfall) at one confidence and horizon."""

    method: Literal["historical", "parametric"]
    confidence: float
    horizonDays: int
    valueAtRisk: float
    """Loss as a fraction of equity (positive is a loss)."""
    valueAtRiskAmount: str | None
    expectedShortfall: float | None = None
    expectedShortfallAmount: str | None = None


class ReturnRiskView(ApiModel):
    """Risk measured on one return series."""

    source: str
    firstDate: str
    lastDate: str
    observations: int
    var: list[VarFigure]
    sharpeRatio: float | None
    sortinoRatio: float | None
    maxDrawdown: str
    beta: float | None


class ExposureView(ApiModel):
    """Gross and net exposure in the base currency."""

    gross: str
    net: str


class RiskMetricsView(ApiModel):
    """An account's risk metrics."""

    accountId: str
    currency: str
    equity: str
    leverage: str | None
    exposure: ExposureView
    exposureBySector: dict[str, ExposureView]
    exposureByAssetClass: dict[str, ExposureView]
    weights: dict[str, float]
    equityCurve: ReturnRiskView | None
    currentWeights: ReturnRiskView | None
    instrumentBetas: dict[str, float | None]
    correlation: dict[str, dict[str, float | None]] | None
    benchmark: str
    computedAt: datetime
