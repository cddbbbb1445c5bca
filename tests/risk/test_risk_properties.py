"""Property: however orders are submitted, left working and filled, no accepted order
leaves a limit breached.

Random streams of orders (sides, quantities, market or limit prices, some reduce-only)
go through ``check_order`` against random limits, with bursts of working orders before
any fill. Accepted orders work; fills come in random order and size, or a whole side at
once (reduce-only first, the worst case). Marks stay fixed; a fill happens at the mark
when the order is marketable, else at its limit price; a reduce-only fill is cut to the
position it faces (as the venue or engine enforces). After every step the realised
account must respect every limit, computed here independently from the positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.enums import AssetClass, OrderSide
from alphintra.domain.orders import Order
from alphintra.risk.context import RiskContext
from alphintra.risk.correlation import view_from_clusters
from alphintra.risk.limits import (
    BuyingPowerLimits,
    ConcentrationLimits,
    CorrelationLimits,
    ExposureLimits,
    RiskLimits,
    ScopeLimits,
)
from alphintra.risk.pretrade import check_order
from risk.builders import T0, D, cancel, deny, equity, fill, make_state, order, release

AAA = equity("AAA", sector="TECH", venue="XNAS")
BBB = equity("BBB", sector="TECH", venue="XNYS")
GLD = equity(
    "GLD", sector="METALS", venue="XNYS", asset_class=AssetClass.COMMODITY, multiplier=D(10)
)
INSTRUMENTS = (AAA, BBB, GLD)
BY_ID = {i.id: i for i in INSTRUMENTS}
MARKS = {AAA.id: D(100), BBB.id: D(50), GLD.id: D(20)}
CLUSTER = view_from_clusters([[AAA.id, BBB.id]], threshold=0.8)


def _opt(strategy: st.SearchStrategy[Decimal]) -> st.SearchStrategy[Decimal | None]:
    return st.none() | strategy


def _amounts(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(Decimal)


def _fractions() -> st.SearchStrategy[Decimal]:
    return st.integers(5, 150).map(lambda n: Decimal(n) / 100)


@st.composite
def risk_limits(draw: st.DrawFn) -> RiskLimits:
    exposure = None
    if draw(st.booleans()):
        exposure = ExposureLimits(
            max_gross_exposure=draw(_opt(_amounts(500, 20_000))),
            max_net_exposure=draw(_opt(_amounts(500, 20_000))),
            max_leverage=draw(_opt(_fractions())),
        )
    concentration = None
    if draw(st.booleans()):
        concentration = ConcentrationLimits(
            max_per_instrument=draw(_opt(_fractions())),
            max_per_sector=draw(_opt(_fractions())),
            max_per_asset_class=draw(_opt(_fractions())),
            max_per_venue=draw(_opt(_fractions())),
        )
    buying_power = None
    if draw(st.booleans()):
        buying_power = BuyingPowerLimits(
            fee_rate=draw(st.sampled_from([D(0), D("0.001"), D("0.01")])),
            long_margin_rate=draw(st.sampled_from([D(1), D("0.5"), D("0.2")])),
            short_margin_rate=draw(st.sampled_from([D("0.5"), D(1)])),
        )
    correlation = None
    if draw(st.booleans()):
        correlation = CorrelationLimits(max_cluster_exposure=draw(_amounts(500, 20_000)))
    instruments = {}
    if draw(st.booleans()):
        instruments["AAA"] = ScopeLimits(
            max_position_quantity=draw(_opt(_amounts(1, 80))),
            max_position_notional=draw(_opt(_amounts(100, 8000))),
        )
    return RiskLimits(
        max_position_quantity=draw(_opt(_amounts(1, 80))),
        max_position_notional=draw(_opt(_amounts(100, 10_000))),
        enforce_min_notional=False,
        instruments=instruments,
        exposure=exposure,
        concentration=concentration,
        buying_power=buying_power,
        correlation=correlation,
    )


@dataclass(frozen=True)
class Submit:
    instrument: int
    side: OrderSide
    quantity: int
    offset: int | None
    """Limit price offset from the mark, in percent; None for a market order."""
    reduce_only: bool


@dataclass(frozen=True)
class Fill:
    pick: int
    fraction: int
    """Percent of the leaves quantity (at least one unit)."""


@dataclass(frozen=True)
class FillSide:
    side: OrderSide


@dataclass(frozen=True)
class Cancel:
    pick: int


Step = Submit | Fill | FillSide | Cancel

_SIDES = st.sampled_from([OrderSide.BUY, OrderSide.SELL])
_SUBMIT = st.builds(
    Submit,
    st.integers(0, len(INSTRUMENTS) - 1),
    _SIDES,
    st.integers(1, 30),
    st.none() | st.integers(-5, 5),
    st.sampled_from([False] * 9 + [True]),  # one order in ten reduce-only
)
_STEPS = st.lists(
    st.one_of(
        _SUBMIT,
        _SUBMIT,
        _SUBMIT,
        st.builds(Fill, st.integers(0, 1000), st.integers(1, 100)),
        st.builds(FillSide, _SIDES),
        st.builds(Cancel, st.integers(0, 1000)),
    ),
    max_size=40,
)


def _price(order_price: Decimal | None, side: OrderSide, mark: Decimal, adverse: bool) -> Decimal:
    """Return the fill price: the mark for a market order; for a limit order its limit
    price when ``adverse`` (the worst price it allows), else the mark when marketable."""
    if order_price is None:
        return mark
    if adverse:
        return order_price
    if side is OrderSide.BUY:
        return mark if order_price >= mark else order_price
    return mark if order_price <= mark else order_price


class Model:
    """The account, the fill rules and the independent limit oracle."""

    def __init__(self, limits: RiskLimits, cash: Decimal) -> None:
        self.limits = limits
        self.state = make_state(INSTRUMENTS, {"USD": cash})
        self.state.marks.update(MARKS)
        # Fees and fills at worse than the mark lower equity, which the equity-relative
        # limits (leverage, concentration) do not reserve for: only without them.
        self.adverse = not limits.uses_equity
        buying = limits.buying_power
        self.fee_rate = buying.fee_rate if buying is not None and self.adverse else D(0)

    def context(self) -> RiskContext:
        return RiskContext(
            now_ns=T0,
            prices=self.state.marks,
            instruments=BY_ID.get,
            equity=self.equity(),
            correlation=CLUSTER,
        )

    def equity(self) -> Decimal:
        state = self.state
        value = sum((p.quantity * self.unit(i) for i, p in state.positions.items()), D(0))
        return state.cash.get("USD", D(0)) + value

    def unit(self, instrument_id: str) -> Decimal:
        return MARKS[instrument_id] * BY_ID[instrument_id].multiplier  # type: ignore[index]

    def submit(self, step: Submit) -> None:
        instrument = INSTRUMENTS[step.instrument]
        mark = MARKS[instrument.id]
        price = None if step.offset is None else mark * (100 + step.offset) / 100
        init = order(
            instrument,
            step.side,
            step.quantity,
            price=price.quantize(D("0.01")) if price is not None else None,
            reduce_only=step.reduce_only,
        )
        self.state.apply(init)  # recorded before the check, as the engine does
        denial = check_order(init, instrument, self.state, self.limits, self.context())
        if denial is None:
            release(self.state, init)
        else:
            deny(self.state, init, denial.code, denial.reason)

    def fill(self, working: Order, quantity: Decimal) -> None:
        position = self.state.position_quantity(working.instrument_id)
        if working.reduce_only:
            facing = position if working.side is OrderSide.SELL else -position
            quantity = min(quantity, max(facing, D(0)))
        if quantity > 0:
            mark = MARKS[working.instrument_id]
            price = _price(working.price, working.side, mark, self.adverse)
            notional = quantity * price * BY_ID[working.instrument_id].multiplier
            fill(self.state, working, quantity, price, fee=self.fee_rate * notional)
        if working.reduce_only and working.is_open and quantity < working.leaves_quantity:
            cancel(self.state, working)  # reduce-only cut to the position

    def working(self) -> list[Order]:
        return list(self.state.open_orders.values())

    def apply(self, step: Step) -> None:
        if isinstance(step, Submit):
            self.submit(step)
        elif isinstance(step, Fill):
            open_orders = self.working()
            if open_orders:
                working = open_orders[step.pick % len(open_orders)]
                leaves = working.leaves_quantity
                self.fill(working, max(D(1), (leaves * step.fraction / 100).to_integral_value()))
        elif isinstance(step, FillSide):
            side_orders = [o for o in self.working() if o.side is step.side]
            for working in sorted(side_orders, key=lambda o: not o.reduce_only):
                if working.is_open:
                    self.fill(working, working.leaves_quantity)
        else:
            open_orders = self.working()
            if open_orders:
                cancel(self.state, open_orders[step.pick % len(open_orders)])

    # The oracle ------------------------------------------------------------------------

    def assert_within_limits(self) -> None:
        limits, state = self.limits, self.state
        equity_now = self.equity()
        values = {
            instrument_id: position.quantity * self.unit(instrument_id)
            for instrument_id, position in state.positions.items()
        }
        for instrument in INSTRUMENTS:
            scope = limits.scope_for(instrument)
            quantity = state.position_quantity(instrument.id)
            if scope.max_position_quantity is not None:
                assert abs(quantity) <= scope.max_position_quantity, (instrument.id, quantity)
            if scope.max_position_notional is not None:
                notional = abs(quantity) * MARKS[instrument.id] * instrument.multiplier
                assert notional <= scope.max_position_notional, (instrument.id, notional)
        gross = sum((abs(v) for v in values.values()), D(0))
        net = sum(values.values(), D(0))
        exposure = limits.exposure
        if exposure is not None:
            if exposure.max_gross_exposure is not None:
                assert gross <= exposure.max_gross_exposure, gross
            if exposure.max_net_exposure is not None:
                assert abs(net) <= exposure.max_net_exposure, net
            if exposure.max_leverage is not None:
                assert gross <= exposure.max_leverage * equity_now, (gross, equity_now)
        concentration = limits.concentration
        if concentration is not None:
            groups: list[tuple[Decimal | None, object]] = [
                (concentration.max_per_instrument, lambda i: i.id),
                (concentration.max_per_sector, lambda i: i.sector),
                (concentration.max_per_asset_class, lambda i: i.asset_class),
                (concentration.max_per_venue, lambda i: i.venue),
            ]
            for fraction, key_of in groups:
                if fraction is None:
                    continue
                totals: dict[object, Decimal] = {}
                for instrument_id, value in values.items():
                    key = key_of(BY_ID[instrument_id])  # type: ignore[operator]
                    totals[key] = totals.get(key, D(0)) + abs(value)
                for key, total in totals.items():
                    assert total <= fraction * equity_now or total == 0, (key, total, equity_now)
        if limits.correlation is not None and limits.correlation.max_cluster_exposure is not None:
            cluster = sum((abs(values.get(member, D(0))) for member in (AAA.id, BBB.id)), D(0))
            assert cluster <= limits.correlation.max_cluster_exposure, cluster
        buying = limits.buying_power
        if buying is not None:
            used = sum(
                (
                    abs(v) * (buying.long_margin_rate if v > 0 else buying.short_margin_rate)
                    for v in values.values()
                ),
                D(0),
            )
            assert equity_now - used >= 0, (equity_now, used)


@settings(max_examples=300, deadline=None)
@given(risk_limits(), _amounts(1_000, 50_000), _STEPS)
def test_risk_limits_random_order_streams_never_breached(
    limits: RiskLimits, cash: Decimal, steps: list[Step]
) -> None:
    model = Model(limits, cash)
    model.assert_within_limits()
    for step in steps:
        model.apply(step)
        model.assert_within_limits()


_SEED = st.lists(
    st.builds(
        Submit,
        st.integers(0, len(INSTRUMENTS) - 1),
        _SIDES,
        st.integers(1, 30),
        st.none(),
        st.just(False),
    ),
    max_size=6,
)
_BURST = st.lists(
    st.builds(
        Submit,
        st.integers(0, len(INSTRUMENTS) - 1),
        _SIDES,
        st.integers(1, 30),
        st.none() | st.integers(-5, 5),
        st.sampled_from([False, False, True]),  # one in three reduce-only
    ),
    min_size=5,
    max_size=40,
)


def _other(side: OrderSide) -> OrderSide:
    return OrderSide.SELL if side is OrderSide.BUY else OrderSide.BUY


@settings(max_examples=300, deadline=None)
@given(risk_limits(), _amounts(1_000, 50_000), _SEED, _BURST, _SIDES)
def test_risk_limits_burst_then_one_side_fills_never_breached(
    limits: RiskLimits, cash: Decimal, seed: list[Submit], burst: list[Submit], first: OrderSide
) -> None:
    model = Model(limits, cash)
    for step in seed:  # open some positions first
        model.apply(step)
        model.apply(FillSide(step.side))
    model.assert_within_limits()
    for step in burst:
        model.apply(step)
    model.apply(FillSide(first))  # reduce-only orders fill first: the worst case
    model.assert_within_limits()
    model.apply(FillSide(_other(first)))
    model.assert_within_limits()


@st.composite
def credit_limits(draw: st.DrawFn) -> RiskLimits:
    return RiskLimits(
        enforce_min_notional=False,
        buying_power=BuyingPowerLimits(
            fee_rate=draw(st.sampled_from([D(0), D("0.001"), D("0.05")])),
            long_margin_rate=draw(st.sampled_from([D(1), D("0.5"), D("0.1")])),
            short_margin_rate=draw(st.sampled_from([D("0.1"), D("0.5"), D(1)])),
        ),
    )


@settings(max_examples=300, deadline=None)
@given(credit_limits(), _amounts(100, 3_000), _SEED, _BURST, _SIDES)
def test_risk_buying_power_burst_with_fees_and_worst_prices_never_negative(
    limits: RiskLimits, cash: Decimal, seed: list[Submit], burst: list[Submit], first: OrderSide
) -> None:
    model = Model(limits, cash)
    for step in seed:
        model.apply(step)
        model.apply(FillSide(step.side))
    for step in burst:
        model.apply(step)
    model.apply(FillSide(first))
    model.assert_within_limits()
    model.apply(FillSide(_other(first)))
    model.assert_within_limits()


@settings(max_examples=100, deadline=None)
@given(risk_limits(), _STEPS)
def test_risk_check_order_pure_same_answer_twice(limits: RiskLimits, steps: list[Step]) -> None:
    model = Model(limits, D(20_000))
    for step in steps:
        model.apply(step)
    before = model.state.fingerprint()
    probe = order(AAA, OrderSide.BUY, 5, price="101")
    first = check_order(probe, AAA, model.state, limits, model.context())
    second = check_order(probe, AAA, model.state, limits, model.context())
    assert first == second
    assert model.state.fingerprint() == before


_RO_BURST = st.lists(
    st.builds(
        Submit,
        st.just(0),
        _SIDES,
        st.integers(1, 20),
        st.none() | st.integers(-2, 2),
        st.booleans(),
    ),
    min_size=2,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(_amounts(1, 40), _SEED, _RO_BURST, _SIDES)
def test_risk_position_limit_reduce_only_mixed_bursts_never_breached(
    limit: Decimal, seed: list[Submit], burst: list[Submit], first: OrderSide
) -> None:
    model = Model(RiskLimits(max_position_quantity=limit, enforce_min_notional=False), D(10**6))
    for step in seed:
        model.apply(step)
        model.apply(FillSide(step.side))
    for step in burst:
        model.apply(step)
    model.apply(FillSide(first))
    model.assert_within_limits()
    model.apply(FillSide(_other(first)))
    model.assert_within_limits()
