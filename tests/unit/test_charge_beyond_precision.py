"""A charge too large for the decimal context's precision (10**12 TB at 1,000,000 EUR a
byte: 10**30 EUR) is refused ``amountTooLarge`` like any charge beyond what one record may
cost — by the reference rating function (it raised decimal.InvalidOperation from the
quantize to the cent: a 500 on POST /usage, and in bulk every record of the subscriber
rejected ``ratingError`` with the label ``[<class 'decimal.InvalidOperation'>]``) and by
bulk rating; the subscriber's other records still rate."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from bssrules.pricing.bulk import rate_chunk
from bssrules.pricing.bulk_frames import BulkState, records_frame, rated_usages, subscribers_frame
from bssrules.pricing.rating import MAX_AMOUNT, rate_records
from bssrules.pricing.usage import Subscriber, UsageRecord
from bssrules.rules.project import load_project

RULES = """\
ruleSets:
  - id: dear
    kind: usage
    rules:
      - id: data
        when: {usage.service: data}
        rate: {amount: 1000000, currency: EUR, per: B}
"""
START = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)
RECORDS = [UsageRecord("huge", "s1", "data", START, Decimal(10**12), "TB"),
           UsageRecord("one-byte", "s1", "data", START + dt.timedelta(minutes=1), Decimal(1), "B")]
SUBSCRIBERS = {"s1": Subscriber("s1", payers={"payer": "ba-1"})}


def _book(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    return load_project(tmp_path).rules


def _outcomes(results) -> dict[str, tuple[str, str | None, Decimal]]:  # type: ignore[no-untyped-def]
    return {r.record.id: (r.status, r.reasons[0]["code"] if r.reasons else None, r.amount) for r in results}


def test_the_reference_refuses_a_charge_beyond_the_decimal_precision_and_rates_the_rest(tmp_path: Path) -> None:
    results, _ = rate_records(RECORDS, SUBSCRIBERS, _book(tmp_path))
    assert _outcomes(results) == {"huge": ("rejected", "amountTooLarge", Decimal(0)),
                                  "one-byte": ("rated", None, Decimal("1000000.00"))}
    [huge] = [r for r in results if r.record.id == "huge"]
    assert f"({MAX_AMOUNT:,})" in huge.reasons[0]["label"]


def test_bulk_rating_says_the_same(tmp_path: Path) -> None:
    frame, _ = rate_chunk(records_frame(RECORDS), subscribers_frame(SUBSCRIBERS), _book(tmp_path), BulkState.empty())
    assert _outcomes(rated_usages(frame)) == {"huge": ("rejected", "amountTooLarge", Decimal(0)),
                                              "one-byte": ("rated", None, Decimal("1000000"))}
