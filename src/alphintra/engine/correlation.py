"""Rolling return correlations of the marks, for the correlation limit.

`CorrelationTracker` samples every instrument's mark on one time grid, so that all the
series are aligned in time, and clusters the instruments whose simple returns over the
last ``window`` samples correlate at or above ``min_correlation``
(`alphintra.risk.correlation.build_correlation_view`).

The grid. Boundaries lie at the multiples of ``sample_ms`` (epoch time). When a mark is
noted at or after a boundary that the previous notes had not reached, one sample is
taken first: the last mark of every instrument seen so far, as they stood at the
boundary (the new mark is not in it). So several marks within one interval give one
sample (the last of them), and an instrument with no new mark in an interval is
sampled at its last mark (a zero return).

A gap (no mark at all for several intervals, as over a night or a weekend) gives ONE
sample, not one per crossed boundary: the empty intervals are not filled with copies
of the last marks. Filling them would put a run of zero returns in every series at
once, and a gap longer than the window would leave every series constant, with no
correlation and so no cluster, after each quiet spell. The step across the gap is one
return.

An instrument first seen later starts its series at the next sample; the view
aligns the series on their most recent common length, and an instrument with fewer
than ``min_observations`` returns (at least three) is in no cluster. A mark stamped
before the latest note's interval (out of order) updates the last mark and takes no
sample. Marks should be positive: a
zero one gives an infinite return, which leaves the instrument out of every cluster
until it has left the window. Correlations are statistics, not money: they are floats.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Final

import numpy as np
import numpy.typing as npt

from alphintra.domain.identifiers import InstrumentId
from alphintra.risk.correlation import CorrelationView, build_correlation_view

NANOS_PER_MILLI: Final = 1_000_000
MIN_RETURNS: Final = 3
"""The fewest returns ``min_observations`` may ask for."""


class CorrelationTracker:
    """Clusters of instruments whose sampled mark returns correlate at least
    ``min_correlation``, over the last ``window`` returns sampled every ``sample_ms``.

    `note` runs on every market data point (O(1), plus one append per known
    instrument when a boundary is crossed); `view` is cached until the next sample.
    ``changed`` counts the samples taken: the view can differ only when it has moved.
    """

    __slots__ = (
        "_bucket",
        "_cached",
        "_cached_at",
        "_latest",
        "_sample_ns",
        "_samples",
        "changed",
        "min_correlation",
        "min_observations",
        "sample_ms",
        "window",
    )

    def __init__(
        self,
        window: int,
        sample_ms: int,
        min_correlation: float,
        min_observations: int = MIN_RETURNS,
    ) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < MIN_RETURNS:
            raise ValueError(f"window must be an integer of at least {MIN_RETURNS}, got {window!r}")
        if isinstance(sample_ms, bool) or not isinstance(sample_ms, int) or sample_ms <= 0:
            raise ValueError(f"sample_ms must be a positive integer, got {sample_ms!r}")
        rho = float(min_correlation)
        if not -1.0 <= rho <= 1.0:
            raise ValueError(f"min_correlation must be in [-1, 1], got {min_correlation!r}")
        self.window = window
        self.sample_ms = sample_ms
        self.min_correlation = rho
        self.min_observations = MIN_RETURNS
        self.require(min_observations)
        self._sample_ns = sample_ms * NANOS_PER_MILLI
        self._bucket: int | None = None
        """The grid interval (``ts // sample_ns``) of the latest note."""
        self._latest: dict[InstrumentId, Decimal] = {}
        self._samples: dict[InstrumentId, deque[float]] = {}
        self.changed = 0
        """Samples taken so far; the view may differ only after it moves."""
        self._cached: CorrelationView | None = None
        self._cached_at = -1

    def require(self, min_observations: int) -> None:
        """Set the returns an instrument needs to join a cluster (keeps the samples)."""
        if (
            isinstance(min_observations, bool)
            or not isinstance(min_observations, int)
            or not MIN_RETURNS <= min_observations <= self.window
        ):
            raise ValueError(
                f"min_observations must be an integer from {MIN_RETURNS} to the window "
                f"({self.window}), got {min_observations!r}"
            )
        if min_observations != self.min_observations:
            self.min_observations = min_observations
            self._cached = None

    def note(self, instrument_id: InstrumentId, mark: Decimal, ts_ns: int) -> None:
        """Record ``mark`` as the instrument's latest at ``ts_ns`` (epoch nanoseconds).

        When ``ts_ns`` is past the interval of the previous note, a sample of every
        instrument's last mark is taken first (one, however many boundaries passed).
        """
        bucket = ts_ns // self._sample_ns
        last = self._bucket
        if last is None or bucket > last:
            if last is not None:
                self._sample()
            self._bucket = bucket
        self._latest[instrument_id] = mark

    def _sample(self) -> None:
        samples = self._samples
        size = self.window + 1
        for instrument_id, mark in self._latest.items():
            series = samples.get(instrument_id)
            if series is None:
                series = samples[instrument_id] = deque(maxlen=size)
            series.append(float(mark))
        self.changed += 1

    def samples(self, instrument_id: InstrumentId) -> tuple[float, ...]:
        """Return the instrument's samples, oldest first (at most ``window + 1``)."""
        return tuple(self._samples.get(instrument_id, ()))

    def view(self) -> CorrelationView:
        """Return the clusters as of the latest sample (cached until the next one)."""
        cached = self._cached
        if cached is not None and self._cached_at == self.changed:
            return cached
        returns: dict[InstrumentId, npt.NDArray[np.float64]] = {}
        for instrument_id, series in self._samples.items():
            if len(series) > self.min_observations:
                prices = np.fromiter(series, dtype=np.float64, count=len(series))
                with np.errstate(divide="ignore", invalid="ignore"):
                    returns[instrument_id] = prices[1:] / prices[:-1] - 1.0
        view = build_correlation_view(
            returns, threshold=self.min_correlation, min_observations=self.min_observations
        )
        self._cached, self._cached_at = view, self.changed
        return view
