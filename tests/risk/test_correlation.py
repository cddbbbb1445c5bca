"""Correlation clusters built from return series with numpy."""

from __future__ import annotations

import numpy as np
import pytest

from alphintra.domain.identifiers import InstrumentId
from alphintra.risk.correlation import (
    CorrelationView,
    build_correlation_view,
    clusters_from_matrix,
    view_from_clusters,
)

A, B, C, E = (InstrumentId(s) for s in ("A", "B", "C", "E"))


def _series(seed: int, n: int = 250) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.01, n)


def test_correlation_view_correlated_series_clustered() -> None:
    base = _series(1)
    noise = _series(2) * 0.1
    view = build_correlation_view({A: base, B: base + noise, C: _series(3)}, threshold=0.9)
    assert view.clusters == (frozenset({A, B}),)
    assert view.cluster_of(A) == frozenset({A, B})
    assert view.cluster_of(C) is None


def test_correlation_view_single_linkage_chains_clusters() -> None:
    names = [A, B, C, E]
    matrix = np.array(
        [
            [1.0, 0.85, 0.5, 0.0],
            [0.85, 1.0, 0.85, 0.0],
            [0.5, 0.85, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    view = clusters_from_matrix(names, matrix, 0.85)
    assert view.clusters == (frozenset({A, B, C}),)


@pytest.mark.parametrize(("rho", "clustered"), [(0.8, True), (0.79999, False)])
def test_correlation_view_threshold_inclusive(rho: float, clustered: bool) -> None:
    matrix = np.array([[1.0, rho], [rho, 1.0]])
    view = clusters_from_matrix([A, B], matrix, 0.8)
    assert (view.cluster_of(A) is not None) is clustered


def test_correlation_view_negative_correlation_not_clustered() -> None:
    base = _series(4)
    view = build_correlation_view({A: base, B: -base}, threshold=0.5)
    assert view.clusters == ()


def test_correlation_view_constant_or_short_series_left_out() -> None:
    base = _series(5)
    view = build_correlation_view(
        {A: base, B: base, C: np.zeros(250), E: [0.01, 0.02]}, threshold=0.9
    )
    assert view.clusters == (frozenset({A, B}),)


def test_correlation_view_unequal_lengths_aligned_on_latest() -> None:
    base = _series(6, 300)
    view = build_correlation_view({A: base, B: base[-200:]}, threshold=0.99)
    assert view.clusters == (frozenset({A, B}),)


def test_correlation_view_non_finite_series_left_out() -> None:
    base = _series(7)
    broken = base.copy()
    broken[3] = np.nan
    assert build_correlation_view({A: base, B: broken}, threshold=0.5).clusters == ()


def test_correlation_view_bad_inputs_rejected() -> None:
    with pytest.raises(ValueError, match="threshold must be a correlation"):
        build_correlation_view({}, threshold=1.5)
    with pytest.raises(ValueError, match="expected"):
        clusters_from_matrix([A, B], np.eye(3), 0.5)
    with pytest.raises(ValueError, match="in two clusters"):
        CorrelationView(0.5, (frozenset({A, B}), frozenset({B, C})))
    with pytest.raises(ValueError, match="at least two"):
        CorrelationView(0.5, (frozenset({A}),))


def test_correlation_view_from_explicit_clusters_drops_singletons() -> None:
    view = view_from_clusters([[A, B], [C]], threshold=0.7)
    assert view.clusters == (frozenset({A, B}),)
    assert view.threshold == 0.7
