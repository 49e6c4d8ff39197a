"""Records are rated in (subscriber, start, id) order, the record's text breaking ties; the
batch sorts without making that text when no two records tie, in the same order."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from bssrules.pricing.rating import in_rating_order, rating_order
from bssrules.pricing.usage import UsageRecord

UTC = dt.timezone.utc


def records(rng: random.Random, n: int) -> list[UsageRecord]:
    made = []
    for _ in range(n):
        start: object = dt.datetime(2026, 6, 1, rng.randrange(3), tzinfo=UTC)
        if rng.random() < 0.1:  # malformed starts sort after the well-formed ones
            start = rng.choice([dt.datetime(2026, 6, 1), "2026-06-01", None])
        made.append(UsageRecord(f"u{rng.randrange(4)}", f"s{rng.randrange(3)}", rng.choice(["a", "b"]),
                                start, Decimal(rng.randrange(3)), rng.choice([None, "GB"])))  # type: ignore[arg-type]
    return made


def test_the_order_is_the_rating_order_with_and_without_ties() -> None:
    rng = random.Random(5)
    tied = unique = 0
    for _ in range(300):
        batch = records(rng, rng.randrange(1, 12))
        heads = {(r.subscriber, repr(r.start), r.id) for r in batch}
        tied += len(heads) < len(batch)
        unique += len(heads) == len(batch)
        assert in_rating_order(batch) == sorted(batch, key=rating_order)
        assert in_rating_order(reversed(batch)) == sorted(batch, key=rating_order)
    assert tied > 30 and unique > 30  # both ways were taken


def test_ties_are_broken_by_the_record_whatever_the_input_order() -> None:
    start = dt.datetime(2026, 6, 1, tzinfo=UTC)
    a = UsageRecord("u", "s", "b", start, Decimal(2))
    b = UsageRecord("u", "s", "a", start, Decimal(1))
    assert in_rating_order([a, b]) == in_rating_order([b, a]) == sorted([a, b], key=repr)
