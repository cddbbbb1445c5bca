"""Property: the lazily folded realised volatility is exactly the eager one."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from alphintra.domain.identifiers import InstrumentId
from alphintra.engine.volatility import FOLD_AT, RealizedVolatility, RollingReturns

IDS = [InstrumentId("EURUSD"), InstrumentId("BTCUSD")]
_marks = st.integers(-3, 10**6).map(lambda n: Decimal(n) / 1000)
_steps = st.lists(st.tuples(st.sampled_from(IDS), _marks, st.booleans()), min_size=1, max_size=600)


@given(_steps, st.integers(1, 40))
def test_realized_volatility_random_marks_and_reads_equal_eager_updates(
    steps: list[tuple[InstrumentId, Decimal, bool]], window: int
) -> None:
    lazy = RealizedVolatility(window)
    windows = {i: RollingReturns(window) for i in IDS}
    eager: dict[InstrumentId, float] = {}
    for instrument_id, mark, read in steps:
        lazy.note(instrument_id, mark)
        found = windows[instrument_id].add(float(mark))
        if found is not None:
            eager[instrument_id] = found
        if read:
            reader = IDS[len(eager) % 2]
            assert lazy.get(reader) == eager.get(reader)  # the same float, bit for bit
            assert (reader in lazy) == (reader in eager)
    assert dict(lazy) == eager
    assert len(lazy) == len(eager)


def test_realized_volatility_unread_marks_fold_at_the_limit() -> None:
    lazy = RealizedVolatility(30)
    for k in range(FOLD_AT * 3 + 5):
        lazy.note(IDS[0], Decimal(100 + k % 7))
    assert len(lazy._pending[IDS[0]]) < FOLD_AT
    assert lazy.get(IDS[1]) is None
    assert lazy[IDS[0]] > 0
