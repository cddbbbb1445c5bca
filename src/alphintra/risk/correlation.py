"""Clusters of correlated instruments, for the correlation limit.

A cluster is a connected group of instruments in the graph whose edges join two
instruments with a rolling return correlation at or above ``threshold`` (single
linkage: A and C share a cluster when A-B and B-C are correlated, even when A-C is
not; this errs on the side of larger clusters). Correlations are statistics, not
money, so they are floats.

Build the view away from the hot path (for example once per bar) and hand it to the
checks in `RiskContext.correlation`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from alphintra.domain.identifiers import InstrumentId


@dataclass(frozen=True, slots=True)
class CorrelationView:
    """Disjoint clusters of two or more correlated instruments."""

    threshold: float
    clusters: tuple[frozenset[InstrumentId], ...] = ()
    _by_member: dict[InstrumentId, frozenset[InstrumentId]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_member: dict[InstrumentId, frozenset[InstrumentId]] = {}
        for cluster in self.clusters:
            if len(cluster) < 2:
                raise ValueError(f"a cluster needs at least two instruments, got {set(cluster)}")
            for member in cluster:
                if member in by_member:
                    raise ValueError(f"instrument {member} is in two clusters")
                by_member[member] = cluster
        object.__setattr__(self, "_by_member", by_member)

    def cluster_of(self, instrument_id: InstrumentId) -> frozenset[InstrumentId] | None:
        """Return the cluster holding ``instrument_id``, or None when it is in none."""
        return self._by_member.get(instrument_id)


def clusters_from_matrix(
    names: Sequence[InstrumentId], matrix: npt.ArrayLike, threshold: float
) -> CorrelationView:
    """Return the clusters of a square correlation ``matrix`` over ``names``.

    NaN entries (a constant series) join nothing.
    """
    corr = np.asarray(matrix, dtype=np.float64)
    count = len(names)
    if corr.shape != (count, count):
        raise ValueError(f"correlation matrix has shape {corr.shape}, expected {(count, count)}")
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows, cols = np.nonzero(np.triu(np.nan_to_num(corr, nan=-np.inf) >= threshold, k=1))
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        a, b = root(i), root(j)
        if a != b:
            parent[b] = a
    groups: dict[int, set[InstrumentId]] = {}
    for i, name in enumerate(names):
        groups.setdefault(root(i), set()).add(name)
    clusters = tuple(
        frozenset(members) for members in sorted(groups.values(), key=sorted) if len(members) > 1
    )
    return CorrelationView(threshold, clusters)


def build_correlation_view(
    returns: Mapping[InstrumentId, Sequence[float] | npt.NDArray[np.float64]],
    threshold: float,
    *,
    min_observations: int = 3,
) -> CorrelationView:
    """Cluster instruments whose return correlation is at least ``threshold``.

    ``returns`` holds one return series per instrument, sampled at the same times and
    ending at the same time; series of different lengths are aligned on their most
    recent ``min(len)`` returns. Series with fewer than ``min_observations`` returns,
    or with a non-finite return, are left out (in no cluster).
    """
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a correlation in [-1, 1], got {threshold}")
    usable: list[tuple[InstrumentId, npt.NDArray[np.float64]]] = []
    for name, series in sorted(returns.items()):
        values = np.asarray(series, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"returns of {name} must be one-dimensional, got {values.shape}")
        if len(values) >= min_observations and bool(np.all(np.isfinite(values))):
            usable.append((name, values))
    if len(usable) < 2:
        return CorrelationView(threshold)
    length = min(len(values) for _, values in usable)
    matrix = np.column_stack([values[-length:] for _, values in usable])
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.corrcoef(matrix, rowvar=False)
    return clusters_from_matrix([name for name, _ in usable], corr, threshold)


def view_from_clusters(
    clusters: Iterable[Iterable[InstrumentId]], threshold: float = 1.0
) -> CorrelationView:
    """Return a view of explicitly given clusters (singletons are dropped)."""
    return CorrelationView(
        threshold, tuple(frozenset(c) for c in (set(c) for c in clusters) if len(c) > 1)
    )
