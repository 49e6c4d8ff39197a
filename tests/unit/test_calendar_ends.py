"""A usage whose start has no date in the time zone of a usage rule set that would rate it
(within a day of the calendar's ends: 0001-01-01T00:30:00Z is the year 0 in New York) is
malformed on every path — online (it was), the reference rating function and bulk rating
(they rated it, with a period of the year 0 in bulk, an OverflowError in the reference)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from bssrules.pricing.bulk import rate_chunk
from bssrules.pricing.bulk_frames import ACCUMULATOR_SCHEMA, BUCKET_SCHEMA, RECORD_SCHEMA, BulkState
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import Subscriber, UsageRecord
from bssrules.rules.project import load_project

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc
RULES = """\
ruleSets:
  - id: nyc
    kind: usage
    timeZone: America/New_York
    accumulators:
      - {id: spend, measure: amount, period: month, when: {usage.service: data}}
    rules:
      - id: data
        when: {usage.service: data}
        rate: {amount: 1, currency: USD, per: GB}
"""
STARTS = {"year-0-in-new-york": dt.datetime(1, 1, 1, 0, 30, tzinfo=UTC),
          "first-day-there": dt.datetime(1, 1, 1, 12, tzinfo=UTC),
          "last-day": dt.datetime(9999, 12, 31, 23, 30, tzinfo=UTC),
          "ordinary": dt.datetime(2026, 6, 1, 12, tzinfo=UTC)}


def _book(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    return load_project(tmp_path).rules


def test_the_reference_and_bulk_rating_refuse_a_start_with_no_date_in_the_rule_sets_zone(tmp_path: Path) -> None:
    book = _book(tmp_path)
    records = [UsageRecord(name, "s1", "data", start, Decimal(1), "GB") for name, start in STARTS.items()]
    results, _ = rate_records(records, {"s1": Subscriber("s1", payers={"payer": "ba-1"})}, book)
    reference = {r.record.id: (r.status, r.reasons[0]["code"] if r.reasons else None) for r in results}
    assert reference == {"year-0-in-new-york": ("rejected", "malformed"), "first-day-there": ("rated", None),
                         "last-day": ("rated", None), "ordinary": ("rated", None)}
    [why] = [r.reasons[0]["label"] for r in results if r.record.id == "year-0-in-new-york"]
    assert why == ("the usage start 0001-01-01T00:30:00Z falls outside the calendar (years 1 to 9999) in the time "
                   "zone of rule set 'nyc' (America/New_York)")

    frame = pl.DataFrame({"id": list(STARTS), "subscriber": ["s1"] * 4, "service": ["data"] * 4,
                          "start": list(STARTS.values()), "volume": [Decimal(1)] * 4, "unit": ["GB"] * 4,
                          "type": [None] * 4, "roaming": [None] * 4, "country": [None] * 4,
                          "malformed": [None] * 4}, schema=RECORD_SCHEMA)
    subscribers = pl.DataFrame({"id": ["s1"]}).with_columns(
        party_id=pl.lit(None, pl.Utf8), classification=pl.lit(None, pl.Utf8), offering=pl.lit(None, pl.Utf8),
        active_offerings=pl.lit([], pl.List(pl.Utf8)),
        payers=pl.lit([{"role": "payer", "account": "ba-1"}], pl.List(pl.Struct({"role": pl.Utf8, "account": pl.Utf8}))),
        split_billing=pl.lit(None, pl.Utf8))
    state = BulkState(pl.DataFrame(schema=BUCKET_SCHEMA), pl.DataFrame(schema=ACCUMULATOR_SCHEMA))
    rated, _ = rate_chunk(frame, subscribers, book, state)
    bulk = {row["id"]: (row["status"], row["reason_code"]) for row in rated.iter_rows(named=True)}
    assert bulk == reference
    assert rated.filter(pl.col("id") == "year-0-in-new-york")["reason_label"].item() == why
