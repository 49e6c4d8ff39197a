"""The amounts in the labels of rejected records ("the prepaid balance cannot cover 2.50
EUR"), made by polars for all the rows at once: the text ``Decimal.scaleb`` gives, as the
reference prints it."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.pricing.bulk_output import _amount_labels

TEXT = "the charge {} {} is beyond what one record may cost (1,000,000)"
rows = st.lists(st.tuples(st.integers(-(2**62), 2**62), st.integers(0, 7), st.sampled_from(["EUR", "JPY", "KWD", None]),
                          st.booleans()), max_size=40)


@settings(max_examples=200, deadline=None)
@given(rows)
def test_the_labels_write_amounts_as_decimal_does(given_rows: list[tuple[int, int, str | None, bool]]) -> None:
    amount = np.array([r[0] for r in given_rows] + [0, 1, -5, 250], dtype=np.int64)
    digits = np.array([r[1] for r in given_rows] + [2, 3, 2, 2], dtype=np.int64)
    currency = pl.Series([r[2] for r in given_rows] + ["EUR"] * 4, dtype=pl.Utf8)
    where = np.array([r[3] for r in given_rows] + [True] * 4)
    expected = [TEXT.format(Decimal(int(a)).scaleb(-int(m)), c) if w else None
                for a, m, c, w in zip(amount, digits, currency.to_list(), where)]
    assert _amount_labels(TEXT, where, amount, digits, currency).to_list() == expected
