"""Records whose start has no date in the time zone of a usage rule set that would rate them.

A usage rule set counts a record's time of day, day of week and accumulator period in its
own time zone; a start within a day of the calendar's ends (years 1 to 9999, as Python and
online rating keep dates) may have no date there — 0001-01-01T00:30:00Z is the year 0 in New
York. Online rating refuses such a usage as malformed ("falls outside the calendar … in the
time zone of rule set …"); bulk rating, which reads the starts as integers, rated it with a
period of the year 0. The few records that close to the ends are checked here one by one, as
online checks them, and rejected malformed with the same words; the others are not looked at.
"""
from __future__ import annotations

import polars as pl

from bssrules.pricing.rating import (
    CALENDAR_SAFE_FROM, CALENDAR_SAFE_UNTIL, outside_calendar_reason, usage_rule_set_versions,
)
from bssrules.rules.book import RuleBook


def mark_outside_calendar(records: pl.DataFrame, book: RuleBook) -> pl.DataFrame:
    """``records`` (RECORD_SCHEMA) with those whose start has no date in the zone of a usage
    rule set that would rate them rejected malformed (a record malformed already keeps its reason)."""
    start = pl.col("start")
    near = records.select(((start < CALENDAR_SAFE_FROM) | (start >= CALENDAR_SAFE_UNTIL))
                          & pl.col("malformed").is_null()).to_series()
    if not near.any() or not usage_rule_set_versions(book):
        return records
    rows = near.arg_true()
    reasons = [outside_calendar_reason(book, instant) for instant in records["start"].gather(rows).to_list()]
    if not any(reasons):
        return records
    malformed = records["malformed"].scatter(rows, pl.Series(reasons, dtype=pl.Utf8))
    return records.with_columns(malformed=pl.when(pl.col("malformed").is_null()).then(malformed)
                                .otherwise(pl.col("malformed")))


__all__ = ["mark_outside_calendar"]
