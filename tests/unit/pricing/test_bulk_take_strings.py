"""Strings gathered by their views (``take_strings``, what the rated frame's string columns
are made with): the same values as polars' own gather, short strings held in the views and
long ones in the series' buffers, nulls of the series and of the mask, a series of several
chunks or sliced."""
from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.pricing.bulk_frames import _pick, take_strings

texts = st.one_of(st.none(), st.text(max_size=3), st.text(min_size=10, max_size=30))


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=12), st.lists(texts, max_size=5), st.integers(0, 2),
       st.lists(st.tuples(st.integers(0, 10**6), st.booleans()), max_size=40), st.booleans())
def test_strings_taken_by_their_views_are_those_polars_gathers(
        first: list[str | None], second: list[str | None], cut: int, picks: list[tuple[int, bool]],
        masked: bool) -> None:
    # several chunks, then sliced: the views start at an offset
    series = pl.concat([pl.Series("s", first, dtype=pl.Utf8), pl.Series("s", second, dtype=pl.Utf8)], rechunk=False)
    series = series.slice(min(cut, series.len() - 1))
    index = np.array([i % series.len() for i, _ in picks], dtype=np.int64)
    where = np.array([w for _, w in picks], dtype=bool)
    expected = [series[int(i)] if (w or not masked) else None for i, w in zip(index, where)]
    got = take_strings(series, index, where if masked else None)
    assert got.dtype == pl.Utf8 and got.name == "s"
    assert got.to_list() == expected
    assert got.str.len_bytes().to_list() == [None if e is None else len(e.encode()) for e in expected]


def test_a_pick_from_a_table_gives_nulls_where_the_mask_says_so() -> None:
    table = ["rated", "a rule name longer than twelve bytes", None]
    index = np.array([0, 1, 2, 1, 0], dtype=np.int64)
    where = np.array([True, True, True, False, True])
    assert _pick(table, index, where).to_list() == ["rated", "a rule name longer than twelve bytes", None, None,
                                                    "rated"]
    assert _pick(table, index, np.zeros(5, bool)).to_list() == [None] * 5
    assert take_strings(pl.Series([], dtype=pl.Utf8), np.zeros(0, np.int64)).to_list() == []
