"""A run's totals per currency are the exact sums of the rated records' amounts, whether numpy
sums their integers (amounts and sum within 64 bits) or polars sums the decimals (beyond)."""
from __future__ import annotations

from decimal import Decimal

import polars as pl

from bssrules.pricing.bulk_io import RatingSummary


def _frame(statuses: list[str], currencies: list[str | None], amounts: list[str | None]) -> pl.DataFrame:
    n = len(statuses)
    return pl.DataFrame({
        "status": pl.Series(statuses, dtype=pl.Utf8), "currency": pl.Series(currencies, dtype=pl.Utf8),
        "amount": pl.Series([None if a is None else Decimal(a) for a in amounts], dtype=pl.Decimal(38, 2)),
        "refused_volume": pl.Series([Decimal(0)] * n, dtype=pl.Decimal(38, 12)),
        "rated_by": pl.Series(["bulk"] * n, dtype=pl.Utf8), "reason_code": pl.Series([None] * n, dtype=pl.Utf8)})


def test_totals_per_currency_leave_out_rejected_records_and_null_amounts() -> None:
    summary = RatingSummary()
    summary.add(_frame(["rated", "rated", "rejected", "rated", "rated"], ["EUR", "USD", "EUR", "EUR", "USD"],
                       ["2.50", "1.25", "100.00", None, "-0.05"]))
    summary.add(_frame(["rated"], ["EUR"], ["0.01"]))
    assert summary.totals == {"EUR": Decimal("2.51"), "USD": Decimal("1.20")}
    assert str(summary.totals["EUR"]) == "2.51"


def test_totals_beyond_64_bits_are_exact() -> None:
    huge = "90000000000000000.00"  # 9e18 minor units: two of them pass int64
    summary = RatingSummary()
    summary.add(_frame(["rated", "rated", "rated"], ["EUR", "EUR", "EUR"], [huge, huge, "0.01"]))
    assert summary.totals == {"EUR": Decimal("180000000000000000.01")}
    wide = "1" + "0" * 20 + ".00"  # beyond 64 bits on its own (10**22 minor units)
    summary = RatingSummary()
    summary.add(_frame(["rated", "rated"], ["EUR", "EUR"], [wide, "1.00"]))
    assert summary.totals == {"EUR": Decimal(wide) + 1}
