"""Bulk rating's order is the stable sort by (subscriber, start, id), however many keys tie.

:func:`bssrules.pricing.bulk_order.rating_order` sorts an integer key with numpy's fast
unstable sort and puts records with equal keys back in their given order; these tests hold it
to Python's stable ``sorted`` on draws with many ties (few subscribers, few instants, repeated
ids), on both of its paths (one integer key, and the lexsort for spans too wide for one).
"""
from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from bssrules.pricing.bulk_order import rating_order

ROWS = st.lists(st.tuples(st.integers(-1, 3), st.integers(0, 4), st.sampled_from(["a", "b", "c"])),
                min_size=0, max_size=60)


def _expected(rank: list[int], start: list[int], ids: list[str]) -> list[int]:
    return sorted(range(len(rank)), key=lambda i: (rank[i], start[i], ids[i]))  # stable: equal keys keep their order


@settings(max_examples=200, deadline=None)
@given(ROWS)
def test_the_order_is_the_stable_sort_by_subscriber_start_and_id(rows: list[tuple[int, int, str]]) -> None:
    rank = [r for r, _, _ in rows]
    start = [1_780_000_000_000_000 + s * 1_000_000 for _, s, _ in rows]
    ids = [i for _, _, i in rows]
    order = rating_order(np.array(rank, np.int64), np.array(start, np.int64), pl.Series(ids, dtype=pl.Utf8))
    assert order.tolist() == _expected(rank, start, ids)


@settings(max_examples=100, deadline=None)
@given(ROWS)
def test_spans_too_wide_for_one_key_give_the_same_order(rows: list[tuple[int, int, str]]) -> None:
    rank = [r for r, _, _ in rows]
    start = [(s - 2) * 2**61 for _, s, _ in rows]  # a span of 2**63: the key would not fit 62 bits
    ids = [i for _, _, i in rows]
    order = rating_order(np.array(rank, np.int64), np.array(start, np.int64), pl.Series(ids, dtype=pl.Utf8))
    assert order.tolist() == _expected(rank, start, ids)


def test_many_records_with_the_same_key_keep_their_given_order() -> None:
    # large enough that the unstable sort does move equal keys around
    n = 5_000
    rank = np.zeros(n, np.int64)
    start = np.repeat(np.arange(50, dtype=np.int64), n // 50)[::-1].copy()
    ids = pl.Series(["same"] * n)
    order = rating_order(rank, start, ids)
    assert order.tolist() == sorted(range(n), key=lambda i: int(start[i]))
