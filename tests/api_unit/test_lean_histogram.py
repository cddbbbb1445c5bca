"""The lean histogram exports exactly what prometheus' own Histogram does."""

from __future__ import annotations

import math
import re

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from alphintra.api.metrics import BPS_BUCKETS, LATENCY_BUCKETS, LeanHistogram

_CREATED = re.compile(r"^(\w+_created(?:\{[^}]*\})?) \S+$", re.MULTILINE)


def _exposition(kind: type[Histogram], buckets: tuple[float, ...], values: list[float]) -> str:
    registry = CollectorRegistry()
    labelled = kind("h_labelled", "doc", ["venue"], buckets=buckets, registry=registry)
    plain = kind("h_plain", "doc", buckets=buckets, registry=registry)
    for i, value in enumerate(values):
        labelled.labels("A" if i % 3 else "B").observe(value)
        plain.observe(value)
    # Creation times differ between the two runs; everything else must not.
    return _CREATED.sub(r"\1 T", generate_latest(registry).decode())


values = st.lists(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=True, width=64),
        st.sampled_from([-50.0, -1.0, 0.0, 1.0, 0.0001, 2.5, 50.0]),
    ),
    max_size=40,
)


@given(values)
def test_lean_histogram_any_values_exposition_equal_to_prometheus(observed: list[float]) -> None:
    for buckets in (BPS_BUCKETS, LATENCY_BUCKETS):
        expected = _exposition(Histogram, buckets, observed)
        assert _exposition(LeanHistogram, buckets, observed) == expected


def test_lean_histogram_nan_adds_to_sum_and_no_bucket() -> None:
    registry = CollectorRegistry()
    histogram = LeanHistogram("h", "doc", buckets=(0.5, 1.0), registry=registry)
    histogram.observe(0.25)
    histogram.observe(math.nan)
    text = generate_latest(registry).decode()
    assert 'h_bucket{le="+Inf"} 1.0' in text
    assert "h_count 1.0" in text
    assert "h_sum NaN" in text
