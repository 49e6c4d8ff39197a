"""Bulk rating's lazy queries run on polars' in-memory engine: on the default (streaming)
engine they would queue behind the background Parquet encoding of the chunk before, which
runs on that engine's executor. And the ids check's tables are zeros, writable, of the size
asked, whether they come in huge pages or not."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from bssrules.pricing import bulk_ids
from bssrules.pricing.bulk import BulkState, rate_chunk, records_frame, subscribers_frame
from bssrules.pricing.bulk_io import RatingSummary
from bssrules.pricing.usage import Subscriber, UsageRecord
from bssrules.rules.project import load_project

RULES = """\
ruleSets:
  - id: mobile
    kind: usage
    rules:
      - id: data
        when: {usage.service: data}
        rate: {currency: EUR, per: GB, tiers: [{upTo: 1, amount: 2}, {amount: 1}]}
  - id: split
    kind: splitBilling
    default: payer
    rules:
      - id: shared
        when: {charge.service: data}
        shares: [{payer: employer, weight: 70}, {payer: payer, weight: 30}]
"""


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The engine of every LazyFrame.collect called."""
    seen: list[Any] = []
    collect = pl.LazyFrame.collect

    def spy(self: pl.LazyFrame, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("engine", "auto"))
        return collect(self, *args, **kwargs)

    monkeypatch.setattr(pl.LazyFrame, "collect", spy)
    return seen


def test_a_chunks_lazy_queries_and_the_summary_run_in_memory(tmp_path: Path, engines: list[Any]) -> None:
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    book = load_project(tmp_path).rules
    start = dt.datetime(2026, 6, 29, 21, 0, tzinfo=dt.timezone.utc)
    records = records_frame([UsageRecord(f"u{i}", "s1", "data", start + dt.timedelta(minutes=i), Decimal("0.5"), "GB")
                             for i in range(4)])
    subscribers = subscribers_frame([Subscriber("s1", payers={"payer": "a1", "employer": "e1"}, split_billing="split")])
    rated, _ = rate_chunk(records, subscribers, book, BulkState.empty())
    summary = RatingSummary()
    summary.add(rated)
    assert summary.rated == 4 and summary.totals == {"EUR": Decimal("4.00")}
    # the conditions, the split billing plans, the summary's reasons (its totals are summed by
    # numpy where the amounts fit 64 bits, by polars in memory otherwise)
    assert len(engines) >= 3
    assert set(engines) == {"in-memory"}


def test_the_ids_tables_are_writable_zeros_of_the_size_asked() -> None:
    for slots in (1 << 12, 1 << 19):  # below and above the size asked for in huge pages
        table = bulk_ids._zeros(slots)
        assert table.shape == (slots,) and table.dtype == np.uint64 and table.flags.writeable
        assert not table.any()
        table[slots - 1] = 7
        assert int(table.sum()) == 7
