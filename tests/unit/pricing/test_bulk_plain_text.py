"""Volumes, balances and totals written as text (CSV, JSON lines, the state files) without
the trailing zeros of their column's scale: the text of the exact decimal, never an
exponent — at the top level and inside the nested columns."""
from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.pricing.bulk_frames import VOLUME
from bssrules.pricing.bulk_write import _plain_text

values = st.one_of(st.none(), st.decimals(min_value=-(10**20), max_value=10**20, places=12, allow_nan=False,
                                          allow_infinity=False),
                   st.integers(-(10**6), 10**6).map(Decimal))


def _expected(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@settings(max_examples=200, deadline=None)
@given(st.lists(values, max_size=30))
def test_a_decimal_is_written_without_the_zeros_of_its_scale(given_values: list[Decimal | None]) -> None:
    column = pl.Series("v", given_values, dtype=VOLUME)
    expected = [_expected(v) for v in given_values]
    assert pl.select(_plain_text(pl.lit(column))).to_series().to_list() == expected
    nested = pl.DataFrame({"l": [[{"taken": v} for v in given_values]]},
                          schema={"l": pl.List(pl.Struct({"taken": VOLUME}))})
    inside = nested.select(pl.col("l").list.eval(pl.element().struct.with_fields(
        taken=_plain_text(pl.element().struct.field("taken")))))
    assert [t["taken"] for t in inside["l"][0]] == expected


def test_whole_numbers_keep_their_zeros() -> None:
    column = pl.Series("v", [Decimal(100), Decimal("0"), Decimal("10.5"), Decimal("-2.010")], dtype=VOLUME)
    assert pl.select(_plain_text(pl.lit(column))).to_series().to_list() == ["100", "0", "10.5", "-2.01"]
    no_scale = pl.Series("v", [Decimal(100), Decimal(0), Decimal(-20)], dtype=pl.Decimal(38, 0))
    assert pl.select(_plain_text(pl.lit(no_scale))).to_series().to_list() == ["100", "0", "-20"]
