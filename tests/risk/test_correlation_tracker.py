"""The correlation tracker (`alphintra.engine.correlation`) and the correlation limit's
new fields: the sampling grid, the clusters against numpy on real daily closes, the
view's cache, and the fields' validation and mapping."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.identifiers import InstrumentId
from alphintra.engine.correlation import CorrelationTracker
from alphintra.risk.limits import CorrelationLimits, RiskLimits, RiskLimitsError
from alphintra.risk.limits_mapping import RiskLimitsBook
from helpers.csv_rows import read_rows

D = Decimal
A, B, C = InstrumentId("A"), InstrumentId("B"), InstrumentId("C")
SEC = 1_000_000_000
T0 = 1_700_000_000 * SEC  # on a one-second boundary


# The sampling grid ------------------------------------------------------------------


def test_marks_within_one_interval_give_one_sample_of_the_last_mark() -> None:
    tracker = CorrelationTracker(window=5, sample_ms=1_000, min_correlation=0.9)
    tracker.note(A, D("100"), T0)
    tracker.note(A, D("101"), T0 + SEC // 4)
    tracker.note(A, D("102"), T0 + SEC - 1)  # still the first interval
    assert tracker.changed == 0
    assert tracker.samples(A) == ()
    tracker.note(A, D("150"), T0 + SEC)  # on the boundary: sample the marks before it
    assert tracker.changed == 1
    assert tracker.samples(A) == (102.0,)
    tracker.note(A, D("151"), T0 + SEC + 1)
    tracker.note(B, D("7"), T0 + 2 * SEC - 1)
    tracker.note(A, D("152"), T0 + 2 * SEC + 5)
    assert tracker.changed == 2
    assert tracker.samples(A) == (102.0, 151.0)
    assert tracker.samples(B) == (7.0,)  # first seen later: its series starts here


def test_a_gap_of_several_intervals_gives_one_sample() -> None:
    """The chosen rule: the empty intervals of a gap are not filled with copies of the
    last marks (see the module doc); the step across the gap is one return."""
    tracker = CorrelationTracker(window=5, sample_ms=1_000, min_correlation=0.9)
    tracker.note(A, D("100"), T0)
    tracker.note(B, D("50"), T0 + 1)
    tracker.note(A, D("110"), T0 + 7 * SEC + 3)  # seven boundaries crossed at once
    assert tracker.changed == 1
    assert tracker.samples(A) == (100.0,)
    assert tracker.samples(B) == (50.0,)
    tracker.note(A, D("120"), T0 + 8 * SEC)
    assert tracker.changed == 2
    assert tracker.samples(A) == (100.0, 110.0)
    assert tracker.samples(B) == (50.0, 50.0)  # no new mark: carried to this sample


def test_a_late_mark_takes_no_sample() -> None:
    tracker = CorrelationTracker(window=5, sample_ms=1_000, min_correlation=0.9)
    tracker.note(A, D("100"), T0 + 3 * SEC)
    tracker.note(A, D("99"), T0 + SEC)  # out of order: an older interval
    assert tracker.changed == 0
    tracker.note(A, D("101"), T0 + 4 * SEC)
    assert tracker.samples(A) == (99.0,)


def test_at_most_window_plus_one_samples_are_kept() -> None:
    tracker = CorrelationTracker(window=4, sample_ms=1_000, min_correlation=0.9)
    for k in range(20):
        tracker.note(A, D(100 + k), T0 + k * SEC)
    assert tracker.changed == 19
    assert tracker.samples(A) == (114.0, 115.0, 116.0, 117.0, 118.0)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([A, B, C]), st.integers(0, 10_000), st.integers(1, 500)),
        max_size=60,
    ),
    st.integers(1, 1_500),
)
def test_one_sample_per_note_that_enters_a_later_interval(
    notes: list[tuple[InstrumentId, int, int]], sample_ms: int
) -> None:
    """Against a model written here: the samples are the last marks of every instrument
    seen so far, taken whenever a note's interval is past the latest one."""
    tracker = CorrelationTracker(window=6, sample_ms=sample_ms, min_correlation=0.5)
    step = sample_ms * 1_000_000
    latest: dict[InstrumentId, float] = {}
    model: dict[InstrumentId, list[float]] = {}
    interval: int | None = None
    for instrument_id, ms, price in sorted(notes, key=lambda n: n[1]):
        ts = T0 + ms * 1_000_000
        if interval is not None and ts // step > interval:
            for name, mark in latest.items():
                model.setdefault(name, []).append(mark)
        if interval is None or ts // step > interval:
            interval = ts // step
        latest[instrument_id] = float(price)
        tracker.note(instrument_id, D(price), ts)
    for name in (A, B, C):
        assert tracker.samples(name) == tuple(model.get(name, [])[-7:])


# The view: clusters against numpy on real daily closes -----------------------------

SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL", "BAC", "IBM")


def _expected_clusters(
    closes: dict[str, list[float]], window: int, threshold: float
) -> set[frozenset[str]]:
    """np.corrcoef of the last ``window`` simple returns, then connected components of
    the graph of pairs at or above ``threshold`` (series with fewer returns left out)."""
    names = [s for s in sorted(closes) if len(closes[s]) - 1 >= 3]
    length = min(*(len(closes[s]) - 1 for s in names), window)
    returns = np.array(
        [
            [closes[s][-length - 1 + k + 1] / closes[s][-length - 1 + k] - 1 for k in range(length)]
            for s in names
        ]
    )
    with np.errstate(divide="ignore", invalid="ignore"):  # a flat series: NaN, no edge
        corr = np.corrcoef(returns)
    near = np.abs(corr - threshold) < 1e-9
    assert not near.any(), "a correlation at the threshold: pick another cut"
    seen: set[str] = set()
    clusters: set[frozenset[str]] = set()
    for start in range(len(names)):
        if names[start] in seen:
            continue
        component, todo = {start}, [start]
        while todo:
            i = todo.pop()
            for j in range(len(names)):
                if j not in component and corr[i, j] >= threshold:
                    component.add(j)
                    todo.append(j)
        seen.update(names[i] for i in component)
        if len(component) > 1:
            clusters.add(frozenset(names[i] for i in component))
    return clusters


def test_view_matches_numpy_on_real_daily_closes() -> None:
    """Daily closes of six US ETFs and stocks, each noted at 21:00 UTC of its date, a
    one-day grid: each sample holds the closes of the previous trading day (carried
    forward where a symbol has no row). At 40 cuts the tracker's clusters equal those
    computed here from the same closes with np.corrcoef."""
    window, threshold = 40, 0.75
    rows = {s: read_rows(f"equity/daily/{s}.csv") for s in SYMBOLS}
    by_date: dict[str, dict[str, str]] = {}
    for symbol, table in rows.items():
        for row in table:
            by_date.setdefault(row["date"], {})[symbol] = row["close"]
    dates = sorted(by_date)
    cuts = set(range(300, len(dates), len(dates) // 40))
    tracker = CorrelationTracker(window=window, sample_ms=86_400_000, min_correlation=threshold)
    last: dict[str, float] = {}
    sampled: dict[str, list[float]] = {}
    outcomes: list[set[frozenset[str]]] = []
    for index, date in enumerate(dates):
        day = datetime.strptime(date, "%Y-%m-%d").replace(hour=21, tzinfo=UTC)
        ts = int(day.timestamp()) * SEC
        if index:
            for symbol, close in last.items():
                sampled.setdefault(symbol, []).append(close)
        for symbol, text in sorted(by_date[date].items()):
            tracker.note(InstrumentId(symbol), D(text), ts)
            last[symbol] = float(text)
        if index in cuts:
            expected = _expected_clusters(sampled, window, threshold)
            got = {frozenset(str(m) for m in c) for c in tracker.view().clusters}
            assert got == expected, (date, got, expected)
            outcomes.append(got)
    assert len(outcomes) >= 35
    # The data make the comparison worth something: clusters form and break up.
    assert any(outcomes) and not all(o == outcomes[0] for o in outcomes)
    assert any(len(c) < len(SYMBOLS) for o in outcomes for c in o)


def test_perfectly_correlated_series_cluster_and_too_short_ones_do_not() -> None:
    tracker = CorrelationTracker(window=5, sample_ms=1_000, min_correlation=0.9)
    prices = [100, 103, 101, 106, 104, 108, 107]
    for k, price in enumerate(prices):
        tracker.note(A, D(price), T0 + k * SEC)
        tracker.note(B, D(price) * 3, T0 + k * SEC + 1)
        tracker.note(C, D(200 - price), T0 + k * SEC + 2)  # moves the other way
        # k samples so far, k - 1 returns: three are needed.
        assert (tracker.view().clusters != ()) is (k >= 4)
    view = tracker.view()
    assert view.clusters == (frozenset({A, B}),)
    assert view.cluster_of(C) is None
    assert view.threshold == 0.9


def test_view_is_cached_until_a_new_sample() -> None:
    tracker = CorrelationTracker(window=5, sample_ms=1_000, min_correlation=0.9)
    for k in range(6):
        tracker.note(A, D(100 + k * k), T0 + k * SEC)
        tracker.note(B, D(50 + k * k), T0 + k * SEC)
    first = tracker.view()
    assert first.clusters == (frozenset({A, B}),)
    changed = tracker.changed
    tracker.note(B, D(50), T0 + 5 * SEC + 10)  # same interval: no sample
    assert tracker.changed == changed
    assert tracker.view() is first
    # B now falls while A rises: after the next samples they are no longer a cluster.
    for k in range(6, 12):
        tracker.note(A, D(100 + k * k), T0 + k * SEC)
        tracker.note(B, D(50 - k), T0 + k * SEC)
        assert tracker.changed == changed + k - 5
    second = tracker.view()
    assert second is not first
    assert second.clusters == ()
    assert tracker.view() is second


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 2, "sample_ms": 1_000, "min_correlation": 0.5}, "window"),
        ({"window": 5, "sample_ms": 0, "min_correlation": 0.5}, "sample_ms"),
        ({"window": 5, "sample_ms": 1_000, "min_correlation": 1.01}, "min_correlation"),
    ],
)
def test_tracker_refuses_bad_parameters(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CorrelationTracker(**kwargs)  # type: ignore[arg-type]


def test_an_instrument_joins_a_cluster_only_with_min_observations_returns() -> None:
    """Two series moving in lockstep: no cluster until each has 5 returns; lowering the
    requirement keeps the samples and takes effect at once."""
    tracker = CorrelationTracker(
        window=10, sample_ms=1_000, min_correlation=0.9, min_observations=5
    )
    moves = [D("1"), D("3"), D("-2"), D("4"), D("-1"), D("2")]
    price = D(100)
    for k, move in enumerate(moves):
        tracker.note(A, price, T0 + k * SEC)
        tracker.note(B, price * 2, T0 + k * SEC + 1)
        price += move
    tracker.note(A, price, T0 + len(moves) * SEC)  # takes the sample of 5 returns
    assert len(tracker.samples(A)) == 6
    tracker.require(6)
    assert tracker.view().clusters == ()
    tracker.require(5)
    assert tracker.view().clusters == (frozenset({A, B}),)
    tracker.require(4)
    assert tracker.view().clusters == (frozenset({A, B}),)
    assert len(tracker.samples(A)) == 6


@pytest.mark.parametrize("value", [2, 11, True, 4.0])
def test_tracker_refuses_min_observations_outside_3_to_window(value: object) -> None:
    with pytest.raises(ValueError, match="min_observations must be an integer from 3"):
        CorrelationTracker(window=10, sample_ms=1_000, min_correlation=0.9, min_observations=value)  # type: ignore[arg-type]


def test_min_observations_defaults_to_20_within_the_window() -> None:
    assert CorrelationLimits(max_cluster_exposure=D(1)).observations_needed == 20
    assert CorrelationLimits(max_cluster_exposure=D(1), window=8).observations_needed == 8
    limits = CorrelationLimits(max_cluster_exposure=D(1), window=30, min_observations=12)
    assert limits.observations_needed == 12
    with pytest.raises(
        RiskLimitsError, match=r"min_observations must be at most window \(30\), got 31"
    ):
        CorrelationLimits(max_cluster_exposure=D(1), window=30, min_observations=31)
    with pytest.raises(RiskLimitsError, match=r"min_observations must be at least 3, got 2"):
        CorrelationLimits(max_cluster_exposure=D(1), min_observations=2)
    mapping = RiskLimits(correlation=limits).to_mapping()
    assert mapping["correlation"] == {
        "max_cluster_exposure": "1",
        "window": 30,
        "min_observations": 12,
    }
    assert RiskLimits.from_mapping(mapping).correlation == limits


# The limit's fields -------------------------------------------------------------------


def test_correlation_limits_defaults() -> None:
    limits = CorrelationLimits(max_cluster_exposure=D(1_000))
    assert (limits.min_correlation, limits.window, limits.sample_ms) == (D("0.8"), 60, 60_000)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "min_correlation",
            D("1.01"),
            r"CorrelationLimits\.min_correlation must be in \[-1, 1\], got 1\.01",
        ),
        (
            "min_correlation",
            D("-1.5"),
            r"CorrelationLimits\.min_correlation must be in \[-1, 1\], got -1\.5",
        ),
        (
            "min_correlation",
            0.8,
            r"CorrelationLimits\.min_correlation must be a finite Decimal, got 0\.8",
        ),
        (
            "min_correlation",
            D("NaN"),
            r"CorrelationLimits\.min_correlation must be a finite Decimal, got Decimal\('NaN'\)",
        ),
        ("window", 2, r"CorrelationLimits\.window must be at least 3, got 2"),
        ("window", True, r"CorrelationLimits\.window must be an integer, got True"),
        ("window", 60.0, r"CorrelationLimits\.window must be an integer, got 60\.0"),
        ("window", None, r"CorrelationLimits\.window must not be None"),
        ("sample_ms", 0, r"CorrelationLimits\.sample_ms must be at least 1, got 0"),
        ("sample_ms", -1_000, r"CorrelationLimits\.sample_ms must be at least 1, got -1000"),
        ("sample_ms", "1000", r"CorrelationLimits\.sample_ms must be an integer, got '1000'"),
    ],
)
def test_correlation_limits_refuse_bad_fields(field: str, value: object, message: str) -> None:
    with pytest.raises(RiskLimitsError, match=message):
        CorrelationLimits(max_cluster_exposure=D(1_000), **{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("rho", [D("-1"), D("1"), D("0"), D("-0.3")])
def test_correlation_limits_accept_any_correlation(rho: Decimal) -> None:
    assert (
        CorrelationLimits(max_cluster_fraction=D("0.5"), min_correlation=rho).min_correlation == rho
    )


def test_mapping_round_trips_the_new_fields() -> None:
    limits = RiskLimits(
        correlation=CorrelationLimits(
            max_cluster_exposure=D(250_000),
            min_correlation=D("-0.25"),
            window=20,
            sample_ms=5_000,
        )
    )
    mapping = limits.to_mapping()
    assert mapping == {
        "correlation": {
            "max_cluster_exposure": "250000",
            "min_correlation": "-0.25",
            "window": 20,
            "sample_ms": 5_000,
        }
    }
    back = RiskLimits.from_mapping(mapping)
    assert back == limits
    assert back.correlation is not None and back.correlation.window == 20
    # Defaults are left out, and come back as defaults.
    plain = RiskLimits(correlation=CorrelationLimits(max_cluster_exposure=D(1)))
    assert plain.to_mapping() == {"correlation": {"max_cluster_exposure": "1"}}
    book = RiskLimitsBook(defaults=plain, accounts={"X": limits})
    assert RiskLimitsBook.from_mapping(book.to_mapping()) == book


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"window": "20"}, r"risk\.correlation\.window must be an integer, got '20'"),
        ({"sample_ms": 1.5}, r"risk\.correlation\.sample_ms must be an integer, got 1\.5"),
        ({"min_correlation": 0.9}, r"risk\.correlation\.min_correlation must not be a float"),
        (
            {"min_correlation": "2"},
            r"risk\.correlation: CorrelationLimits\.min_correlation must be in \[-1, 1\], got 2",
        ),
        ({"window": 1}, r"risk\.correlation: CorrelationLimits\.window must be at least 3, got 1"),
        ({"rho": "0.9"}, r"risk\.correlation: unknown key \['rho'\]; allowed: .*'min_correlation'"),
    ],
)
def test_mapping_refuses_bad_new_fields(section: dict[str, object], message: str) -> None:
    data = {"correlation": {"max_cluster_exposure": "1000", **section}}
    with pytest.raises(RiskLimitsError, match=message):
        RiskLimits.from_mapping(data)
