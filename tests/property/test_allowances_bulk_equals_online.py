"""Included allowances give the same charges online and in bulk (issue 15, item 1).

Random catalogs (a monthly price with one or two allowances: amounts, units, usage types,
precedence, rollover with or without a limit, each way of pro-rating), subscribers (on the
plan or not, starting before or inside the months played) and records over three months
are rated twice:

- as online rating does (the reference): records in the order they happen, each product's
  allowance buckets of a record's month made just before the record is rated when they are
  missing (:func:`bssrules.pricing.allowances.provide`, the decision online rating takes;
  and, in a second test, the code online rating runs: the store rows
  ``services.allowance_buckets.missing_buckets`` makes, read back as ``services.usage`` reads
  them), then :func:`bssrules.pricing.rating.rate_records`;
- in bulk: :func:`bssrules.pricing.bulk_allowances.rate_with_allowances`, which provisions
  each month's buckets before rating it with :func:`bssrules.pricing.bulk.rate_chunk`.

Every record's result and the final balances must be equal.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.catalog.catalog import Catalog, Origin
from bssrules.catalog.model import ProductOffering, ProductOfferingPrice, ProductSpecification
from bssrules.pricing.allowances import PREFIX, provide
from bssrules.pricing.bulk import BulkState, rated_usages, records_frame, subscribers_frame
from bssrules.pricing.bulk_allowances import rate_with_allowances
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import RatingState, Subscriber, UsageRecord
from bssrules.rules.compiled import compile_rule_set
from bssrules.rules.loader import RuleBook
from bssrules.rules.model import RULE_SET_TYPES
from bssrules.services.allowance_buckets import missing_buckets
from bssrules.services.records import StoredBucket, StoredResource
from bssrules.services.usage import bucket_of

UTC = dt.timezone.utc
BASE = dt.datetime(2026, 5, 1, tzinfo=UTC)  # records in May, June and July
EARLY = dt.datetime(2026, 1, 1, tzinfo=UTC)  # a start long before (months without buckets carry on)
SERVICES = {"data": ["MB", "GB"], "voice": ["min", "s"]}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def book() -> RuleBook:
    raw = {"id": "plan-usage", "kind": "usage", "rules": [
        {"id": "data", "when": {"usage.service": "data"}, "rate": {"amount": "0.01", "currency": "EUR", "per": "MB"}},
        {"id": "voice", "when": {"usage.service": "voice"}, "rate": {"amount": "0.10", "currency": "EUR",
                                                                      "per": "min"}}]}
    made = RuleBook()
    made.add(compile_rule_set(RULE_SET_TYPES["usage"].model_validate(raw)), Origin("generated", 1))
    return made


@st.composite
def allowance(draw: Any, n: int) -> dict[str, Any]:
    service = draw(st.sampled_from(sorted(SERVICES)))
    found: dict[str, Any] = {
        "id": f"a{n}", "name": f"allowance {n}", "amount": draw(st.integers(1, 3000)),
        "unit": draw(st.sampled_from(SERVICES[service])), "usageTypes": [service],
        "precedence": draw(st.integers(0, 3)), "proRate": draw(st.sampled_from(["exact", "wholeUnits", "full"]))}
    rollover = draw(st.sampled_from(["none", "all", "limit"]))
    if rollover != "none":
        found["rollover"] = {"limit": draw(st.integers(1, 2000))} if rollover == "limit" else {}
    return found


@st.composite
def scenario(draw: Any) -> tuple[Catalog, dict[str, Subscriber], dict[str, dt.datetime | None], list[UsageRecord]]:
    catalog = Catalog()
    catalog.add(ProductSpecification.model_validate({"id": "line", "name": "Line"}))
    allowances = [draw(allowance(n)) for n in range(draw(st.integers(1, 2)))]
    catalog.add(ProductOfferingPrice.model_validate({
        "id": "monthly", "name": "Monthly", "priceType": "recurring", "recurringPeriod": "month", "amount": "12.00",
        "currency": "EUR", "allowances": allowances}))
    catalog.add(ProductOfferingPrice.model_validate({
        "id": "data-per-mb", "name": "Data", "priceType": "usage", "usageType": "data", "unit": "MB",
        "amount": "0.01", "currency": "EUR"}))
    catalog.add(ProductOffering.model_validate({"id": "plan", "name": "Plan", "productSpecification": "line",
                                                "prices": ["monthly", "data-per-mb"]}))
    catalog.add(ProductOffering.model_validate({"id": "bare", "name": "Bare", "productSpecification": "line",
                                                "prices": ["data-per-mb"]}))
    subscribers, starts = {}, {}
    for n in range(draw(st.integers(1, 3))):
        name = f"s{n}"
        subscribers[name] = Subscriber(name, offering=draw(st.sampled_from(["plan", "plan", "bare"])),
                                       payers={"payer": f"ba-{n}"})
        # before the months played (a rollover chain from months without usage), or inside them
        minutes = draw(st.one_of(st.none(), st.integers(-90 * 24 * 60, 60 * 24 * 60)))
        starts[name] = None if minutes is None else BASE + dt.timedelta(minutes=minutes)
    records = []
    for n in range(draw(st.integers(1, 14))):
        service = draw(st.sampled_from(sorted(SERVICES)))
        subscriber = draw(st.sampled_from(sorted(subscribers)))
        start = BASE + dt.timedelta(minutes=draw(st.integers(0, 91 * 24 * 60 - 1)))
        records.append(UsageRecord(f"r{n:02d}", subscriber, service, start, Decimal(draw(st.integers(0, 2500))),
                                   draw(st.sampled_from(SERVICES[service]))))
    return catalog, subscribers, starts, records


def online(catalog: Catalog, subscribers: dict[str, Subscriber], starts: dict[str, dt.datetime | None],
           records: list[UsageRecord]) -> tuple[dict[str, Any], RatingState]:
    """Records rated one by one in the order they happen, each product's missing buckets of
    the record's month made first (what services.usage does with the store's buckets) and
    kept only when the record is rated (a rejected one makes none)."""
    rules, state, results = book(), RatingState(), {}
    for record in sorted(records, key=lambda r: (r.start, r.id)):
        subscriber = subscribers[record.subscriber]
        before = state.buckets
        state = provide(state, catalog, subscriber.id, subscriber.offering, starts[subscriber.id], record.start)
        rated, state = rate_records([record], subscribers, rules, state)
        if rated[0].status == "rejected":
            state = replace(state, buckets={k: v for k, v in state.buckets.items() if k in before})
        results[record.id] = rated[0]
    return results, state


def online_service(catalog: Catalog, subscribers: dict[str, Subscriber], starts: dict[str, dt.datetime],
                   records: list[UsageRecord]) -> tuple[dict[str, Any], RatingState]:
    """As :func:`online`, with the code online rating runs: the products as the inventory
    stores them, the buckets they lack made by ``services.allowance_buckets.missing_buckets``
    as store rows and read back by ``services.usage.bucket_of``."""
    rules, state, results = book(), RatingState(), {}
    stored: dict[str, StoredBucket] = {}
    for record in sorted(records, key=lambda r: (r.start, r.id)):
        subscriber = subscribers[record.subscriber]
        product = StoredResource("product", subscriber.id, 1, EARLY, EARLY, {
            "status": "active", "startDate": starts[subscriber.id].isoformat(),
            "productOffering": {"id": subscriber.offering}})
        present = {i: replace(b, remaining=state.buckets[i].remaining) for i, b in stored.items()}
        made = missing_buckets(catalog, [(product, record.start)], present, EARLY)
        state = replace(state, buckets={**state.buckets, **{b.id: bucket_of(b) for b in made}})
        rated, state = rate_records([record], subscribers, rules, state)
        if rated[0].status == "rejected":  # (makes no bucket: they are made by the month's first usage rated)
            state = replace(state, buckets={k: v for k, v in state.buckets.items() if k not in {b.id for b in made}})
        else:
            stored.update((b.id, b) for b in made)
        results[record.id] = rated[0]
    return results, state


@SETTINGS
@given(scenario())
def test_bulk_rating_gives_the_charges_of_the_online_rating_code(case: Any) -> None:
    catalog, subscribers, starts, records = case
    known = {s: start or EARLY for s, start in starts.items()}
    expected, expected_state = online_service(catalog, subscribers, known, records)
    frame, state = rate_with_allowances(records_frame(records), subscribers_frame(subscribers), book(), catalog,
                                        BulkState.empty(), known)
    got = {r.record.id: r for r in rated_usages(frame)}
    for record_id, reference in expected.items():
        assert got[record_id] == reference, f"\nbulk:   {got[record_id]}\nonline: {reference}"
    assert state.to_rating_state() == expected_state


@SETTINGS
@given(scenario())
def test_bulk_rating_gives_the_charges_online_rating_gives_with_allowances(case: Any) -> None:
    catalog, subscribers, starts, records = case
    expected, expected_state = online(catalog, subscribers, starts, records)
    frame, state = rate_with_allowances(records_frame(records), subscribers_frame(subscribers), book(), catalog,
                                        BulkState.empty(), starts)
    got = {r.record.id: r for r in rated_usages(frame)}
    assert got.keys() == expected.keys()
    for record_id, reference in expected.items():
        assert got[record_id] == reference, f"\nbulk:   {got[record_id]}\nonline: {reference}"
    assert state.to_rating_state() == expected_state


def _three_gb_plan() -> tuple[Catalog, dict[str, Subscriber], dict[str, dt.datetime | None]]:
    """3 GB of data a month, rollover up to 2 GB; subscriber ``s`` on it from 1 May 2026."""
    catalog = Catalog()
    catalog.add(ProductSpecification.model_validate({"id": "line", "name": "Line"}))
    catalog.add(ProductOfferingPrice.model_validate({
        "id": "monthly", "name": "Monthly", "priceType": "recurring", "recurringPeriod": "month", "amount": "12.00",
        "currency": "EUR", "allowances": [{"id": "data", "name": "Data", "amount": 3, "unit": "GB",
                                           "usageTypes": ["data"], "rollover": {"limit": 2}}]}))
    catalog.add(ProductOffering.model_validate({"id": "plan", "name": "Plan", "productSpecification": "line",
                                                "prices": ["monthly"]}))
    return (catalog, {"s": Subscriber("s", offering="plan", payers={"payer": "ba"})},
            {"s": dt.datetime(2026, 5, 1, tzinfo=UTC)})


def test_a_month_without_usage_carries_its_units_on_in_both_paths() -> None:
    """3 GB a month, rollover up to 2 GB: June unused carries 2 GB into July whether June's
    bucket was made or not; July has 5 GB, so 4500 MB in July are free in both paths."""
    catalog, subscribers, starts = _three_gb_plan()
    records = [UsageRecord("may", "s", "data", dt.datetime(2026, 5, 3, tzinfo=UTC), Decimal(2000), "MB"),
               UsageRecord("july", "s", "data", dt.datetime(2026, 7, 3, tzinfo=UTC), Decimal(4500), "MB"),
               UsageRecord("july-2", "s", "data", dt.datetime(2026, 7, 4, tzinfo=UTC), Decimal(600), "MB")]
    expected, state = online(catalog, subscribers, starts, records)
    assert [expected[r].amount for r in ("may", "july", "july-2")] == [Decimal(0), Decimal(0), Decimal("1.00")]
    july = state.buckets[f"{PREFIX}s:monthly:data:2026-07"]
    assert july.remaining == 0
    frame, bulk_state = rate_with_allowances(records_frame(records), subscribers_frame(subscribers), book(),
                                             catalog, BulkState.empty(), starts)
    assert [r.amount for r in rated_usages(frame)] == [Decimal(0), Decimal(0), Decimal("1.00")]
    assert bulk_state.to_rating_state() == state


def test_a_month_whose_records_are_all_rejected_gets_no_bucket_in_either_path() -> None:
    """A rejected record takes nothing, so it makes no allowance bucket: online's month is made
    by its first usage rated (and carries over what the month before has left then)."""
    catalog, subscribers, starts = _three_gb_plan()
    records = [UsageRecord("may", "s", "data", dt.datetime(2026, 5, 3, tzinfo=UTC), Decimal(2000), "MB"),
               UsageRecord("june-wrong-unit", "s", "data", dt.datetime(2026, 6, 3, tzinfo=UTC), Decimal(5), "minute")]
    expected, state = online(catalog, subscribers, starts, records)
    assert expected["june-wrong-unit"].status == "rejected"
    assert sorted(state.buckets) == [f"{PREFIX}s:monthly:data:2026-05"]
    frame, bulk_state = rate_with_allowances(records_frame(records), subscribers_frame(subscribers), book(),
                                             catalog, BulkState.empty(), starts)
    assert [r.status for r in rated_usages(frame)] == ["rated", "rejected"]
    assert bulk_state.to_rating_state() == state
