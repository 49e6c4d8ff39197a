"""Bulk rating gives exactly what the reference gives, record by record and state for state.

Random records, subscribers, buckets and accumulator totals are rated twice: by
:func:`bssrules.pricing.rating.rate_records` (per record, decided on the rule engine) and by
:func:`bssrules.pricing.bulk.rate_chunk` (vectorised conditions, a compiled scan); every
field of every result and of the new state must be equal. Rule books: the PPV and
connected-car examples, and small generated ones with tiers (per record, or graduated over an
accumulator's period total), time windows, accumulators with
notify / block / changeRate thresholds (block ones rating in full or up to their cap, at levels
the scan holds or not), prerequisites, versions and split billing shares.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.catalog.catalog import Origin
from bssrules.pricing.bulk import BulkState, rate_chunk, rated_usages, records_frame, subscribers_frame
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import AccumulatorKey, AccumulatorTotal, Bucket, RatingState, Subscriber, UsageRecord
from bssrules.rules.project import load_project
from bssrules.rules.compiled import compile_rule_set
from bssrules.rules.loader import RuleBook
from bssrules.rules.model import RULE_SET_TYPES

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
UTC = dt.timezone.utc
BASE = dt.datetime(2026, 3, 28, tzinfo=UTC)  # Europe's clocks move on the 29th; March turns to April
SERVICES = ["data", "voice", "sms"]
KINDS = [["GB", "MB"], ["min", "s"], ["event"]]  # units convert within their kind (1 GB = 1000 MB, 1 min = 60 s)
CURRENCIES = ["EUR", "JPY", "KWD"]  # minor units: 2, 0, 3
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]
OFFERINGS = ["o1", "o2", "o3"]
ROLES = ["payer", "a", "b"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def book_of(rule_sets: list[dict[str, Any]]) -> RuleBook:
    """A rule book compiled straight from rule set data (lint left out: the reference rates
    whatever compiles, and so must bulk rating)."""
    book = RuleBook()
    for raw in rule_sets:
        book.add(compile_rule_set(RULE_SET_TYPES[raw["kind"]].model_validate(raw)), Origin("generated", 1))
    return book


# ------------------------------------------------------------------------ rule books

def amounts(low: int = 0, high: int = 400, places: int = 2) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-places))


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    minute = st.integers(0, 1439).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
    instant = st.integers(0, 6 * 24).map(lambda h: (BASE + dt.timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    leaves = [
        st.sampled_from(SERVICES).map(lambda s: {"usage.service": s}),
        st.lists(st.sampled_from(SERVICES), min_size=1, max_size=2, unique=True).map(
            lambda s: {"usage.service": {"in": s}}),
        st.sampled_from(SERVICES).map(lambda s: {"usage.service": {"ne": s}}),
        st.tuples(minute, minute).map(lambda w: {"usage.start": {"timeOfDay": {"from": w[0], "to": w[1]}}}),
        st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), min_size=1, max_size=3,
                 unique=True).map(lambda d: {"usage.start": {"dayOfWeek": d}}),
        st.tuples(st.sampled_from(["lt", "lte", "gt", "gte"]), instant).map(lambda t: {"now": {t[0]: t[1]}}),
        st.tuples(instant, instant).map(lambda t: {"usage.start": {"between": sorted(t)}}),
        st.tuples(st.sampled_from(["lt", "lte", "gt", "gte", "eq", "ne"]), amounts(0, 2000, 2)).map(
            lambda t: {"usage.volume": {t[0]: t[1]}}),
        st.tuples(amounts(0, 1000, 2), amounts(0, 1000, 2)).map(lambda t: {"usage.volume": {"between": sorted(t)}}),
        st.tuples(st.sampled_from(["usage.unit", "usage.type", "usage.roaming", "usage.country", "party.id",
                                   "party.classification"]), st.booleans()).map(lambda t: {t[0]: {"exists": t[1]}}),
        st.sampled_from([u for kind in KINDS for u in kind]).map(lambda u: {"usage.unit": u}),
        st.booleans().map(lambda b: {"usage.roaming": b}),
        st.lists(st.sampled_from(["FR", "DE", "US"]), min_size=1, max_size=2, unique=True).map(
            lambda c: {"usage.country": {"notIn": c}}),
        st.lists(st.sampled_from(["VIP", "GOLD"]), min_size=1, max_size=2, unique=True).map(
            lambda c: {"party.classification": {"in": c}}),
        st.tuples(st.sampled_from(["contains", "notContains"]), st.sampled_from(OFFERINGS)).map(
            lambda t: {"inventory.activeOfferings": {t[0]: t[1]}}),
        st.tuples(st.sampled_from(["containsAny", "containsAll"]),
                  st.lists(st.sampled_from(OFFERINGS), min_size=1, max_size=3, unique=True)).map(
            lambda t: {"inventory.activeOfferings": {t[0]: t[1]}}),
    ]
    if depth < 2:
        inner = conditions(depth + 1)
        leaves += [st.lists(inner, min_size=1, max_size=2).map(lambda c: {"any": c}),
                   st.lists(inner, min_size=1, max_size=2).map(lambda c: {"all": c}),
                   inner.map(lambda c: {"not": c})]
    return draw(st.one_of(leaves))


@st.composite
def rates(draw: st.DrawFn, units: list[str], tiered: bool = False) -> dict[str, Any]:
    currency = draw(st.sampled_from(CURRENCIES))
    per = draw(st.sampled_from(units * 8 + ["event"]))  # now and then a unit of another kind
    if draw(st.integers(0, 30)) == 0:  # dear enough to pass rating.MAX_AMOUNT on a large record
        return {"amount": "90000000000", "currency": currency, "per": per}
    if (draw(st.integers(0, 5)) == 0) if tiered else draw(st.booleans()):
        return {"amount": str(draw(amounts(0, 500, draw(st.integers(0, 4))))), "currency": currency, "per": per}
    bounds = draw(st.lists(amounts(1, 3000, 2), min_size=0, max_size=3, unique=True))
    if draw(st.integers(0, 4)):  # mostly in order, as catalog managers write them
        bounds = sorted(bounds)
    tiers = [{"upTo": str(b), "amount": str(draw(amounts(0, 900, 3)))} for b in bounds]
    if not tiers or draw(st.integers(0, 3)):
        tiers.append({"amount": str(draw(amounts(0, 900, 3)))})
    return {"currency": currency, "per": per, "tiers": tiers,
            "tierMode": draw(st.sampled_from(["graduated", "volume"]))}


def counting_period(draw: st.DrawFn, rate: dict[str, Any], accumulators: int, often: bool = False
                    ) -> dict[str, Any]:
    """The rate, its graduated tiers now and then (``often``: mostly) counting the period total
    of one of the rule set's accumulators (rarely one it does not have: the reference counts
    from nothing)."""
    if often and "tiers" in rate and draw(st.integers(0, 5)):
        rate = {**rate, "tierMode": "graduated"}
    if "tiers" not in rate or rate["tierMode"] != "graduated" or not accumulators \
            or not draw(st.integers(0, 5) if often else st.booleans()):
        return rate
    name = draw(st.sampled_from([f"acc{k}" for k in range(accumulators)] * 8 + ["missing"]))
    return {**rate, "tiersCount": {"accumulator": name}}


@st.composite
def usage_rule_sets(draw: st.DrawFn, rule_set_id: str, units: list[str], period_tiers: bool = False
                    ) -> list[dict[str, Any]]:
    rules = []
    count = draw(st.integers(1, 3))
    accumulator_count = draw(st.integers(1 if period_tiers else 0, 2))
    for i in range(count):
        rate = draw(rates(units, tiered=period_tiers))
        rule: dict[str, Any] = {"id": f"r{i}", "rate": counting_period(draw, rate, accumulator_count, period_tiers)}
        if i < count - 1 or draw(st.integers(0, 3)) == 0:  # mostly a catch-all rule last
            rule["when"] = draw(conditions())
        if draw(st.integers(0, 5)) == 0:
            rule["validFor"] = {"start": (BASE + dt.timedelta(days=draw(st.integers(0, 4)))).isoformat()}
        if draw(st.booleans()):
            rule["provisioningId"] = f"P-{i}"
        rules.append(rule)
    accumulators = []
    for i in range(accumulator_count):
        levels = sorted(draw(st.lists(st.integers(1, 60), min_size=1, max_size=3, unique=True)))
        thresholds = []
        for j, level in enumerate(levels):
            action = draw(st.sampled_from(["notify", "block", "block", "changeRate"]))
            at = Decimal(level) / 2
            if draw(st.integers(0, 12)) == 0:  # finer than the scan's money and volumes: to the reference
                at += Decimal("0.0000001")
            threshold: dict[str, Any] = {"id": f"t{j}", "at": str(at), "action": action}
            if action == "block":
                threshold["reason"] = {"code": f"capReached{j}", "label": f"cap {level} reached"}
                if draw(st.booleans()):
                    threshold["crossing"] = "rateUpToCap"
            if action == "changeRate":
                threshold["rate"] = counting_period(draw, draw(rates(units)), accumulator_count, period_tiers)
            thresholds.append(threshold)
        accumulator: dict[str, Any] = {"id": f"acc{i}", "measure": draw(st.sampled_from(["volume", "amount"])),
                                       "period": draw(st.sampled_from(["day", "month"])), "thresholds": thresholds}
        if draw(st.integers(0, 9 if period_tiers else 3)) == 0:
            accumulator["when"] = draw(conditions())
        accumulators.append(accumulator)
    rule_set: dict[str, Any] = {"id": rule_set_id, "kind": "usage", "timeZone": draw(st.sampled_from(ZONES)),
                                "rules": rules, "accumulators": accumulators}
    if draw(st.integers(0, 5)) == 0:
        rule_set["appliesTo"] = draw(conditions())
    rule_set["prerequisites"] = [
        {"id": f"pre{i}",
         "when": draw(st.one_of(conditions(), st.just({"inventory.activeOfferings": {"contains": "o1"}}))),
         "reason": {"code": f"missing{i}", "label": f"needs {i}"}}
        for i in range(draw(st.sampled_from([0, 0, 0, 1, 2])))]
    versions = [rule_set]
    if draw(st.integers(0, 4)) == 0:  # a second version taking over during the period
        later = {**rule_set, "version": 2, "validFor": {"start": (BASE + dt.timedelta(days=2)).isoformat()},
                 "rules": [{**r, "id": f"{r['id']}v2"} for r in rules]}
        versions.append(later)
    return versions


@st.composite
def split_rule_sets(draw: st.DrawFn) -> dict[str, Any]:
    rules = []
    for i in range(draw(st.integers(0, 3))):
        rule: dict[str, Any] = {"id": f"split{i}"}
        when = draw(st.sampled_from([
            None, {"charge.service": "data"}, {"charge.usageType": {"exists": True}},
            {"party.classification": "VIP"}, {"charge.amount": {"gt": Decimal("1.50")}}, {"charge.currency": "EUR"},
            {"inventory.activeOfferings": {"contains": "o1"}}]))
        if when is not None:
            rule["when"] = when
        if draw(st.booleans()):
            rule["payer"] = draw(st.sampled_from(ROLES))
        else:
            roles = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=3, unique=True))
            rule["shares"] = [{"payer": r, "weight": str(draw(amounts(1, 300, draw(st.integers(0, 2)))))}
                              for r in roles]
        rules.append(rule)
    split: dict[str, Any] = {"id": "split", "kind": "splitBilling", "rules": rules}
    if draw(st.booleans()):
        split["default"] = draw(st.sampled_from(ROLES))
    return split


@st.composite
def generated_books(draw: st.DrawFn, period_tiers: bool = False) -> tuple[RuleBook, dict[str, Any]]:
    """``period_tiers``: mostly graduated tiers counting an accumulator's period total."""
    units = draw(st.sampled_from(KINDS))
    rule_sets = draw(usage_rule_sets("usage-a", units, period_tiers))
    if draw(st.booleans()):
        rule_sets += draw(usage_rule_sets("usage-b", units, period_tiers))
    rule_sets.append(draw(split_rule_sets()))
    return book_of(rule_sets), {"services": SERVICES, "offerings": OFFERINGS, "roles": ROLES, "split": ["split"],
                                "units": units + ["GB" if units[0] == "min" else "min"],
                                "accumulators": [f"{r['id']}/{a['id']}" for r in rule_sets
                                                 for a in r.get("accumulators", [])]}


_EXAMPLE_BOOKS: dict[str, RuleBook] = {}


def example_book(name: str) -> RuleBook:
    if name not in _EXAMPLE_BOOKS:
        _EXAMPLE_BOOKS[name] = load_project(EXAMPLES / name).rules
    return _EXAMPLE_BOOKS[name]


def example_books() -> st.SearchStrategy[tuple[RuleBook, dict[str, Any]]]:
    ppv = {"services": ["ppv-movie", "other"], "offerings": ["ppv-service"], "roles": ["payer"], "split": [],
           "units": ["movie"], "accumulators": []}
    car = {"services": ["infotainment", "telematics", "other"], "offerings": ["infotainment-connectivity"],
           "roles": ["driver", "car-maker"], "split": ["connected-car-split-billing"], "units": ["GB"],
           "accumulators": []}
    return st.sampled_from([("ppv", ppv), ("connected_car", car)]).map(lambda e: (example_book(e[0]), e[1]))


# -------------------------------------------------------------------- usage and state

@st.composite
def scenarios(draw: st.DrawFn, books: st.SearchStrategy) -> tuple[RuleBook, list[UsageRecord],
                                                                  dict[str, Subscriber], RatingState]:
    book, world = draw(books)
    subscribers = {}
    for i in range(draw(st.integers(1, 4))):
        roles = world["roles"] + ["payer"] if draw(st.integers(0, 3)) else \
            draw(st.lists(st.sampled_from(world["roles"] + ["payer"]), max_size=3, unique=True))
        subscribers[f"s{i}"] = Subscriber(
            f"s{i}", draw(st.sampled_from([None, "", f"party{i}"])), draw(st.sampled_from([None, "", "VIP", "GOLD"])),
            draw(st.sampled_from([None, "", "offer-x"])),
            tuple(draw(st.lists(st.sampled_from(world["offerings"]), max_size=3, unique=True))),
            {role: draw(st.sampled_from(["acc1", "acc2"])) for role in dict.fromkeys(roles)},
            draw(st.sampled_from([None] + world["split"])))
    names = list(subscribers) * 4 + ["ghost"]
    records = []
    for i in range(draw(st.integers(0, 24))):
        start = BASE + dt.timedelta(minutes=draw(st.integers(0, 5 * 1440)), seconds=draw(st.integers(0, 1)))
        zone = dt.timezone(dt.timedelta(hours=draw(st.sampled_from([0, 2, -5]))))
        places = draw(st.sampled_from([0, 1, 2, 3] * 8 + [7]))  # 7 decimals: beyond the scan, to the reference
        volume = Decimal(draw(st.integers(-1 if draw(st.integers(0, 15)) == 0 else 0, 3000))).scaleb(-min(places, 3))
        if places == 7:
            volume += Decimal("0.0000001")
        if draw(st.integers(0, 60)) == 0:  # beyond what one record may hold (rating.MAX_VOLUME)
            volume = Decimal(10**12 + 1)
        records.append(UsageRecord(
            f"u{i:02d}", draw(st.sampled_from(names)), draw(st.sampled_from(world["services"])),
            start.astimezone(zone), volume, draw(st.sampled_from([None, None, ""] + world["units"][:-1] * 3
                                                                 + world["units"][-1:])),
            draw(st.sampled_from([None, "", "roam", "home"])), draw(st.sampled_from([None, True, False])),
            draw(st.sampled_from([None, "FR", "DE"]))))
    if records and draw(st.booleans()):  # same subscriber, same instant: the id decides
        records.append(UsageRecord("u-tie", records[0].subscriber, records[0].service, records[0].start,
                                   Decimal(1), records[0].unit))
    buckets = {}
    for i in range(draw(st.integers(0, 6))):
        unit = draw(st.sampled_from(world["units"] + CURRENCIES))
        money = unit in CURRENCIES
        valid_from = draw(st.sampled_from([None, BASE + dt.timedelta(days=1)]))
        buckets[f"b{i}"] = Bucket(
            f"b{i}", draw(st.sampled_from(list(subscribers))), unit, draw(amounts(-50, 3000, 2)),
            draw(st.sampled_from([1, 50, 100])),
            tuple(draw(st.lists(st.sampled_from(world["services"]), max_size=2, unique=True))), valid_from,
            draw(st.sampled_from([None, BASE + dt.timedelta(days=3)])),
            draw(st.sampled_from([Decimal(0), None, Decimal(-5), Decimal("2.5")])) if money else Decimal(0))
    totals = {}
    for name in world["accumulators"]:
        for subscriber in subscribers:
            if draw(st.booleans()):
                period = draw(st.sampled_from(["2026-03", "2026-03-28", "2026-03-29", "2026-04"]))
                reached = tuple(draw(st.lists(st.sampled_from(["t0", "t1", "t2", "old"]), max_size=2, unique=True)))
                totals[AccumulatorKey(name, subscriber, period)] = AccumulatorTotal(
                    draw(amounts(0, 4000, 2)), draw(amounts(0, 4000, 2)), reached)
    return book, records, subscribers, RatingState(buckets, totals)


def assert_bulk_equals_reference(book: RuleBook, records: list[UsageRecord], subscribers: dict[str, Subscriber],
                                 state: RatingState) -> pl.DataFrame:
    expected, expected_state = rate_records(records, subscribers, book, state)
    frame, new_state = rate_chunk(records_frame(records), subscribers_frame(subscribers), book,
                                  BulkState.from_rating_state(state))
    got = rated_usages(frame)
    assert len(got) == len(expected)
    for mine, reference in zip(got, expected):
        assert mine == reference, f"\nbulk:      {mine}\nreference: {reference}"
    assert new_state.to_rating_state() == expected_state
    return frame


@SETTINGS
@given(scenarios(generated_books()))
def test_bulk_rating_equals_the_reference_on_generated_rule_books(scenario) -> None:
    assert_bulk_equals_reference(*scenario)


@SETTINGS
@given(scenarios(generated_books(period_tiers=True)))
def test_bulk_rating_equals_the_reference_on_tiers_over_a_period(scenario) -> None:
    assert_bulk_equals_reference(*scenario)


@settings(SETTINGS, max_examples=20)
@given(scenarios(example_books()))
def test_bulk_rating_equals_the_reference_on_the_example_projects(scenario) -> None:
    assert_bulk_equals_reference(*scenario)


@settings(SETTINGS, max_examples=15)
@given(scenarios(generated_books()), st.integers(1, 3))
def test_rating_subscriber_partitions_in_turn_equals_rating_them_together(scenario, parts: int) -> None:
    book, records, subscribers, state = scenario
    together, together_state = rate_chunk(records_frame(records), subscribers_frame(subscribers), book,
                                          BulkState.from_rating_state(state))
    frames, bulk_state = [], BulkState.from_rating_state(state)
    for part in range(parts):
        mine = [r for r in records if sum(map(ord, r.subscriber)) % parts == part]
        frame, bulk_state = rate_chunk(records_frame(mine), subscribers_frame(subscribers), book, bulk_state)
        frames.append(frame)
    key = ["subscriber", "start", "id"]
    in_turn = pl.concat(frames).sort(key, maintain_order=True)
    assert rated_usages(in_turn) == rated_usages(together.sort(key, maintain_order=True))
    assert bulk_state.to_rating_state() == together_state.to_rating_state()


def test_volumes_beyond_the_scans_integers_are_rated_by_the_reference() -> None:
    book = example_book("ppv")
    subscribers = {s: Subscriber(s, "p1", None, None, ("ppv-service",), {"payer": "acc"}) for s in ("s1", "s2")}
    # one finer than 6 decimals, one beyond int64 with 12: the scan holds neither, so s1 goes to the reference
    records = [UsageRecord("u1", "s1", "ppv-movie", BASE, Decimal("1.0000001")),
               UsageRecord("u2", "s1", "ppv-movie", BASE + dt.timedelta(hours=12), Decimal(20_000_000)),
               UsageRecord("u3", "s2", "ppv-movie", BASE, Decimal(2))]
    frame = assert_bulk_equals_reference(book, records, subscribers, RatingState())
    assert frame["rated_by"].to_list() == ["reference", "reference", "bulk"]


def test_a_payer_rule_on_the_amount_a_bucket_changed_is_decided_by_the_reference() -> None:
    book = book_of([
        {"id": "data", "kind": "usage",
         "rules": [{"id": "gb", "rate": {"amount": "1", "currency": "EUR", "per": "GB"}}]},
        {"id": "split", "kind": "splitBilling", "default": "payer",
         "rules": [{"id": "big", "when": {"charge.amount": {"gt": Decimal(2)}}, "payer": "employer"}]}])
    subscribers = {s: Subscriber(s, None, None, None, (), {"payer": "own", "employer": "corp"}, "split")
                   for s in ("s1", "s2")}
    state = RatingState({"b": Bucket("b", "s1", "GB", Decimal(1))})
    records = [UsageRecord("u1", "s1", "data", BASE, Decimal(3), "GB"),  # 3 EUR before the bucket, 2 after
               UsageRecord("u2", "s2", "data", BASE, Decimal(3), "GB")]
    frame = assert_bulk_equals_reference(book, records, subscribers, state)
    assert frame["rated_by"].to_list() == ["reference", "bulk"]
    assert [c[0]["payer"] for c in frame["charges"].to_list()] == ["payer", "employer"]


def test_seconds_rated_per_minute_round_as_the_reference_does() -> None:
    book = book_of([{"id": "voice", "kind": "usage", "accumulators": [
        {"id": "minutes", "measure": "volume", "thresholds": [{"id": "t", "at": "2", "action": "notify"}]}],
        "rules": [{"id": "min", "rate": {"amount": "0.05", "currency": "EUR", "per": "min"}}]}])
    subscribers = {"s1": Subscriber("s1", payers={"payer": "acc"})}
    state = RatingState({"b": Bucket("b", "s1", "min", Decimal(1))})
    records = [UsageRecord(f"u{i}", "s1", "voice", BASE + dt.timedelta(minutes=i), Decimal(seconds), "s")
               for i, seconds in enumerate([100, 7, 61, 3600])]
    frame = assert_bulk_equals_reference(book, records, subscribers, state)
    assert set(frame["rated_by"]) == {"bulk"}


@pytest.mark.parametrize("project", ["ppv", "connected_car"])
def test_the_examples_rate_in_bulk_without_the_reference(project: str) -> None:
    book = example_book(project)
    subscribers = {"s1": Subscriber("s1", "p1", "GOLD", None, ("ppv-service", "infotainment-connectivity"),
                                    {"payer": "acc", "driver": "acc-d", "car-maker": "acc-c"},
                                    "connected-car-split-billing" if project == "connected_car" else None)}
    unit = None if project == "ppv" else "GB"
    records = [UsageRecord(f"u{i}", "s1", service, BASE + dt.timedelta(hours=5 * i), Decimal(i) / 4, unit)
               for i, service in enumerate(["ppv-movie", "infotainment", "telematics", "ppv-movie", "infotainment"])]
    frame = assert_bulk_equals_reference(book, records, subscribers, RatingState())
    assert set(frame["rated_by"]) == {"bulk"}
    assert "rated" in frame["status"].to_list()


# ------------------------------------------------------------------------------ caps

def capped_book(rate: dict[str, Any], data_at: str = "1000", spend_at: str = "5") -> RuleBook:
    """Data capped at ``data_at`` MB a month, voice at ``spend_at`` EUR, the record crossing
    a cap rated up to it."""
    return book_of([{"id": "mobile", "kind": "usage", "accumulators": [
        {"id": "data-cap", "measure": "volume", "when": {"usage.service": "data"}, "thresholds": [
            {"id": "cap", "at": data_at, "action": "block", "crossing": "rateUpToCap",
             "reason": {"code": "dataCap", "label": "data cap"}}]},
        {"id": "spend", "measure": "amount", "when": {"usage.service": "voice"}, "thresholds": [
            {"id": "stop", "at": spend_at, "action": "block", "crossing": "rateUpToCap",
             "reason": {"code": "spendCap", "label": "spending cap"}}]}],
        "rules": [{"id": "data", "when": {"usage.service": "data"},
                   "rate": {"amount": "0.01", "currency": "EUR", "per": "MB"}},
                  {"id": "voice", "when": {"usage.service": "voice"}, "rate": rate}]}])


def capped_records(subscriber: str = "s1", voice: str = "s") -> list[UsageRecord]:
    """700 MB, then 0.5 GB crossing the data cap, then 1 MB; 100 minutes of calls crossing the
    spending cap, then one more minute (in seconds, or in minutes: a chunk without seconds to
    minutes keeps volumes to 6 decimals)."""
    minutes = Decimal(60) if voice == "s" else Decimal(1)
    return [UsageRecord(f"{subscriber}-d1", subscriber, "data", BASE, Decimal(700), "MB"),
            UsageRecord(f"{subscriber}-d2", subscriber, "data", BASE + dt.timedelta(minutes=1), Decimal("0.5"), "GB"),
            UsageRecord(f"{subscriber}-d3", subscriber, "data", BASE + dt.timedelta(minutes=2), Decimal(1), "MB"),
            UsageRecord(f"{subscriber}-v1", subscriber, "voice", BASE + dt.timedelta(minutes=3), 100 * minutes, voice),
            UsageRecord(f"{subscriber}-v2", subscriber, "voice", BASE + dt.timedelta(minutes=4), minutes, voice)]


CAP_SUBSCRIBERS = {s: Subscriber(s, payers={"payer": "acc"}) for s in ("s1", "s2")}


@pytest.mark.parametrize("rate", [
    {"amount": "0.10", "currency": "EUR", "per": "min"},
    {"currency": "EUR", "per": "min", "tiers": [{"upTo": "10", "amount": "0.20"}, {"amount": "0.05"}]},
    {"currency": "EUR", "per": "min", "tierMode": "volume",
     "tiers": [{"upTo": "10", "amount": "1.00"}, {"amount": "0.08"}]},
    {"currency": "JPY", "per": "min", "amount": "2"},
], ids=["flat", "graduated", "volume tiers", "without decimals"])
def test_the_scan_cuts_records_at_their_caps_as_the_reference_does(rate: dict[str, Any]) -> None:
    for voice in ("s", "min"):
        frame = assert_bulk_equals_reference(capped_book(rate), capped_records("s1", voice), CAP_SUBSCRIBERS,
                                             RatingState())
        assert set(frame["rated_by"]) == {"bulk"}
        assert frame["status"].to_list() == ["rated", "rated", "rejected", "rated", "rejected"]
        assert frame["reason_code"].to_list() == [None, "dataCap", "dataCap", "spendCap", "spendCap"]
        assert frame["refused_volume"][1] == Decimal("0.2") and frame["refused_volume"][3] > 0


@pytest.mark.parametrize(("rate", "data_at", "spend_at", "why"), [
    ({"amount": "0.10", "currency": "EUR", "per": "min"}, "1000.0000001", "5", "a level finer than the scan's"),
    ({"amount": "0.10", "currency": "EUR", "per": "min"}, "1000", "4.9999999", "a money level finer than the scan's"),
    ({"currency": "EUR", "per": "min", "tiers": [{"upTo": "30", "amount": "0.20"}, {"upTo": "10", "amount": "0.05"},
                                                 {"amount": "0.01"}]}, "1000", "5", "tiers out of order"),
    ({"amount": "0.10", "currency": "EUR", "per": "min"}, "1000.0005", "5", "a part finer than the chunk's volumes"),
])
def test_a_cut_the_scan_cannot_hold_exactly_is_left_to_the_reference(rate: dict[str, Any], data_at: str,
                                                                     spend_at: str, why: str) -> None:
    records = capped_records("s1", "min") + [UsageRecord("s2-v1", "s2", "voice", BASE, Decimal(1), "min")]
    frame = assert_bulk_equals_reference(capped_book(rate, data_at, spend_at), records, CAP_SUBSCRIBERS,
                                         RatingState())
    by = dict(zip(frame["id"], frame["rated_by"]))
    assert by["s1-v1"] == "reference", why
    assert by["s2-v1"] == "bulk"  # a subscriber passing no cap stays in the scan
