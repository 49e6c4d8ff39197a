"""Rating types a subscriber's facts once per subscriber object (a worker's cached context)
and a record's own facts per record; what the engine sees is what typing the whole facts of
each record gave (:func:`bssrules.pricing.rating._facts`), and the rating is the same."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from bssrules.pricing import rating
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import Subscriber, UsageRecord
from bssrules.rules.decisions import fact_values
from bssrules.rules.project import load_project

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc

SUBSCRIBERS = [
    Subscriber("s1", "p1", "gold", "ppv-service", ("ppv-service", "tv"), {"payer": "ba1"}),
    Subscriber("s2", None, None, None, (), {}),
    Subscriber("s3", "p3", None, "other", ("b", "a", "b"), {"payer": "ba3", "employer": "ba4"}, "split"),
]
RECORDS = [
    UsageRecord("u1", "s1", "ppv-movie", dt.datetime(2026, 6, 1, 3, tzinfo=UTC), Decimal(1)),
    UsageRecord("u2", "s2", "data", dt.datetime(2026, 6, 1, 3, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                Decimal("2.5"), "GB", "roam", True, "FR"),
    UsageRecord("u3", "s3", "sms", dt.datetime(2026, 7, 1, tzinfo=UTC), Decimal(0), None, None, False),
]


@pytest.mark.parametrize("subscriber", SUBSCRIBERS, ids=lambda s: s.id)
@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.id)
def test_typed_facts_equal_the_whole_facts_typed(subscriber: Subscriber, record: UsageRecord) -> None:
    expected = fact_values(rating._facts(record, subscriber))
    first = rating._typed(record, subscriber)
    again = rating._typed(record, subscriber)  # from the subscriber's kept values
    assert first == expected and again == expected
    assert list(first) == list(expected)  # and in the same order


def test_a_subscriber_is_typed_once_and_its_records_each() -> None:
    subscriber = replace(SUBSCRIBERS[0])
    assert subscriber.typed is None
    rating._typed(RECORDS[0], subscriber)
    kept = subscriber.typed
    assert kept is not None and "now" not in kept and not any(k.startswith("usage.") for k in kept)
    second = rating._typed(replace(RECORDS[0], id="u9", start=dt.datetime(2026, 6, 2, tzinfo=UTC)), subscriber)
    assert subscriber.typed is kept
    assert second["now"] == dt.datetime(2026, 6, 2, tzinfo=UTC) == second["usage.start"]
    # the kept values are no part of the subscriber's value
    assert subscriber == SUBSCRIBERS[0] and replace(subscriber).typed is None


def test_rating_with_a_typed_subscriber_gives_what_a_fresh_one_gives() -> None:
    book = load_project(ROOT / "examples" / "ppv").rules
    records = [UsageRecord(f"u{n}", "s1", "ppv-movie", dt.datetime(2026, 6, 1, n % 24, tzinfo=UTC), Decimal(1))
               for n in range(30)]
    fresh, _ = rate_records(records, {"s1": replace(SUBSCRIBERS[0])}, book)
    kept = replace(SUBSCRIBERS[0])
    rate_records(records[:1], {"s1": kept}, book)  # types it
    assert kept.typed is not None
    again, _ = rate_records(records, {"s1": kept}, book)
    assert again == fresh
    assert {r.status for r in fresh} == {"rated"}


def test_a_bucket_is_made_with_every_field_when_rating_takes_from_it() -> None:
    # rate_records makes the bucket it took from field by field (faster than dataclasses.replace)
    from dataclasses import fields

    from bssrules.pricing.usage import Bucket

    assert [f.name for f in fields(Bucket)] == ["id", "subscriber", "unit", "remaining", "precedence", "services",
                                                 "valid_from", "valid_to", "floor"]


def test_a_rejection_keeps_reasons_of_its_own_not_the_decision_cache_s() -> None:
    book = load_project(ROOT / "examples" / "ppv").rules
    lonely = Subscriber("s9", "p9", None, "other", (), {"payer": "ba9"})  # no ppv-service: rejected
    record = UsageRecord("u1", "s9", "ppv-movie", dt.datetime(2026, 6, 1, 3, tzinfo=UTC), Decimal(1))
    [first], _ = rate_records([record], {"s9": lonely}, book)
    assert first.status == "rejected" and first.reasons
    for reason in first.reasons:
        reason["code"] = "changed by a caller"  # type: ignore[index]
    [again], _ = rate_records([replace(record, id="u2")], {"s9": replace(lonely)}, book)
    assert again.reasons and all(r["code"] != "changed by a caller" for r in again.reasons)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.text(min_size=1, max_size=8)
_MAYBE_TEXT = st.none() | _TEXT


@st.composite
def _valid_records(draw: st.DrawFn) -> UsageRecord:
    """Records :func:`rating.malformed` lets through: what rate_records types."""
    offset = dt.timezone(dt.timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60))))
    start = draw(st.datetimes(dt.datetime(1970, 1, 2), dt.datetime(2100, 1, 1))).replace(tzinfo=offset)
    volume = draw(st.integers(0, 10**12) | st.decimals(0, 10**9, allow_nan=False, allow_infinity=False, places=4))
    record = UsageRecord("u", "s1", draw(_TEXT), start, volume, draw(_MAYBE_TEXT), draw(_MAYBE_TEXT),
                         draw(st.none() | st.booleans()), draw(_MAYBE_TEXT))
    assert rating.malformed(record) is None
    return record


@settings(max_examples=300, deadline=None)
@given(record=_valid_records(), subscriber=st.sampled_from(SUBSCRIBERS))
def test_a_valid_record_is_typed_as_typed_value_types_it(record: UsageRecord, subscriber: Subscriber) -> None:
    """The record's fields are set as they are (rate_records checked them with malformed):
    the values, their types and their order are those of typing the whole facts."""
    expected = fact_values(rating._facts(record, subscriber))
    typed = rating._typed(record, replace(subscriber))
    assert typed == expected and list(typed) == list(expected)
    assert {k: type(v) for k, v in typed.items()} == {k: type(v) for k, v in expected.items()}
