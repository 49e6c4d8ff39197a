"""The bulk path's split of a charge between payers (``_allocate``, in int64 or Python
integers, the parts' places found by comparisons up to eight parts, by a sort beyond) gives
the parts :func:`bssrules.money.allocate` gives, record by record."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.money import Money, allocate
from bssrules.pricing.bulk_output import _allocate

weights = st.lists(st.integers(0, 40).map(lambda w: Decimal(w) / 4), min_size=1, max_size=12) \
    .filter(lambda ws: sum(ws) > 0)
amounts = st.lists(st.one_of(st.integers(0, 10**6), st.integers(0, 2**62)), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(amounts, weights)
def test_the_parts_are_those_money_allocate_gives(minor_units: list[int], parts: list[Decimal]) -> None:
    got = _allocate(np.array(minor_units, dtype=np.int64), parts)
    for row, units in enumerate(minor_units):
        expected = [int(m.amount * 100) for m in allocate(Money(Decimal(units) / 100, "EUR"), parts)]
        assert got[row].tolist() == expected


def test_ties_go_to_the_earliest_parts() -> None:
    # 1 cent in three equal parts, then 2 cents: the first part, then the first two
    got = _allocate(np.array([1, 2], dtype=np.int64), [Decimal(1)] * 3)
    assert got.tolist() == [[1, 0, 0], [1, 1, 0]]
