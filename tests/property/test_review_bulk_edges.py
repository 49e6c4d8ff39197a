"""Bulk rating equals the reference on what the neighbouring property tests do not generate.

The records, rule sets, balances and totals of :mod:`tests.property.test_bulk_equals_reference`
stay within GB/MB, min/s and round levels. Here, rated both ways (:func:`rate_records` and
:func:`rate_chunk`, then :func:`rate_file` through CSV or JSON lines files) and compared field by
field, with the new state:

- every unit name of the two kinds (``B`` … ``TB``, ``KB``, ``s``/``sec``/``second(s)``,
  ``min``/``minute(s)``, ``h``/``hour(s)``) as the rate's, the record's and a bucket's unit;
- graduated and volume tiers at levels with decimals, counting a period total or not;
- EUR, JPY and KWD in one rule book, money buckets in each with floors (0, none, negative,
  one above the balance's cents);
- ``rateUpToCap`` on volume and on amount totals, the record at the level exactly, and
  volumes from 0 to 1,000,000,000,000 and down to 12 decimals, converted up and down;
- starts at a month's turn and at the clocks' change in the rule set's time zone (Paris,
  New York, Lord Howe's half-hour change, Kolkata), by a second either way;
- split billing shares whose weights do not divide the charge, payer rules on the charge;
- in files: starts with offsets and fractions of a second, ids given twice (the first in file
  order rated, the later ones ``duplicateId``), chunks of 1, 3 and 100 records, the state
  written out and read back.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import tempfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.pricing.bulk import BulkState, rated_usages
from bssrules.pricing.bulk_io import rate_file, read_accumulators, read_buckets
from bssrules.pricing.bulk_read import state_names
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import AccumulatorKey, AccumulatorTotal, Bucket, RatingState, Subscriber, UsageRecord
from tests.property.test_bulk_equals_reference import assert_bulk_equals_reference, book_of

UTC = dt.timezone.utc
KINDS = [["B", "kB", "KB", "MB", "GB", "TB"],
         ["s", "sec", "second", "seconds", "min", "minute", "minutes", "h", "hour", "hours"]]
SHORT_KINDS = [["GB", "MB", "kB", "B", "TB"], ["min", "s", "h"]]
CURRENCIES = ["EUR", "JPY", "KWD"]  # minor units 2, 0, 3
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
# Paris: clocks back on 2026-10-25 at 01:00Z, the month turns at 2026-10-31T23:00Z; New York: clocks
# back on 2026-11-01 at 06:00Z, the month turns at 04:00Z; Lord Howe, Kolkata: half hours
STARTS = [dt.datetime(2026, 10, 31, 22, 0, tzinfo=UTC), dt.datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
          dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC), dt.datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
          dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC), dt.datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
          dt.datetime(2026, 11, 1, 6, 0, tzinfo=UTC), dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
          dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC), dt.datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
          dt.datetime(2026, 10, 31, 13, 0, tzinfo=UTC), dt.datetime(2026, 10, 31, 18, 30, tzinfo=UTC)]
SUBSCRIBERS = {s: Subscriber(s, None, None, None, (), {"payer": "P", "a": "A", "b": "B"}, "split")
               for s in ("s0", "s1")}
SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)


def decimals(draw: st.DrawFn, low: int, high: int, places: int) -> Decimal:
    return Decimal(draw(st.integers(low, high))).scaleb(-places)


@st.composite
def rates(draw: st.DrawFn, units: list[str], currency: str | None = None) -> dict[str, Any]:
    currency = currency or draw(st.sampled_from(CURRENCIES))
    per = draw(st.sampled_from(units))
    if draw(st.booleans()):
        return {"amount": str(decimals(draw, 0, 5000, draw(st.integers(0, 6)))), "currency": currency, "per": per}
    bounds = sorted({decimals(draw, 1, 3000, draw(st.integers(0, 3))) for _ in range(draw(st.integers(1, 3)))})
    tiers: list[dict[str, str]] = [{"upTo": str(b), "amount": str(decimals(draw, 0, 900, draw(st.integers(0, 5))))}
                                   for b in bounds]
    tiers.append({"amount": str(decimals(draw, 0, 900, draw(st.integers(0, 5))))})
    return {"currency": currency, "per": per, "tiers": tiers,
            "tierMode": draw(st.sampled_from(["graduated", "volume"]))}


def split_rule_set(draw: st.DrawFn) -> dict[str, Any]:
    split: dict[str, Any] = {"id": "split", "kind": "splitBilling", "default": "payer", "rules": []}
    if draw(st.booleans()):
        split["rules"].append({"id": "on-charge", "payer": "a", "when": draw(st.sampled_from([
            {"charge.amount": {"gt": Decimal("1.5")}}, {"charge.currency": "JPY"},
            {"charge.amount": {"lte": Decimal("0.01")}}]))})
    if draw(st.booleans()):
        roles = draw(st.lists(st.sampled_from(["payer", "a", "b"]), min_size=2, max_size=3, unique=True))
        split["rules"].append({"id": "shares", "shares": [
            {"payer": r, "weight": str(decimals(draw, 1, 100, draw(st.integers(0, 2))))} for r in roles]})
    return split


@st.composite
def wide_scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[UsageRecord], RatingState]:
    units = draw(st.sampled_from(SHORT_KINDS))
    services = ["data", "voice", "sms"]
    accumulator_count = draw(st.integers(0, 2))
    rules = []
    for i in range(draw(st.integers(1, 3))):
        rate = draw(rates(units))
        if accumulator_count and "tiers" in rate and rate["tierMode"] == "graduated" and draw(st.booleans()):
            rate["tiersCount"] = {"accumulator": f"acc{draw(st.integers(0, accumulator_count - 1))}"}
        rule: dict[str, Any] = {"id": f"r{i}", "rate": rate}
        if draw(st.booleans()):
            rule["when"] = draw(st.sampled_from([
                {"usage.service": draw(st.sampled_from(services))},
                {"usage.start": {"timeOfDay": {"from": "01:00", "to": "02:59"}}},
                {"usage.start": {"dayOfWeek": ["sun"]}},
                {"usage.volume": {"gte": decimals(draw, 0, 2000, 1)}},
                {"usage.unit": draw(st.sampled_from(units))}]))
        if draw(st.integers(0, 4)) == 0:
            rule["validFor"] = {"start": draw(st.sampled_from(STARTS)).isoformat()}
        rules.append(rule)
    accumulators = []
    for i in range(accumulator_count):
        levels = sorted({decimals(draw, 1, 2000, draw(st.integers(0, 3))) for _ in range(draw(st.integers(1, 3)))})
        thresholds = []
        for j, level in enumerate(levels):
            action = draw(st.sampled_from(["notify", "block", "changeRate"]))
            threshold: dict[str, Any] = {"id": f"t{j}", "at": str(level), "action": action}
            if action == "block":
                threshold["reason"] = {"code": f"cap{j}", "label": f"cap {j}"}
                if draw(st.booleans()):
                    threshold["crossing"] = "rateUpToCap"
            if action == "changeRate":
                threshold["rate"] = draw(rates(units))
            thresholds.append(threshold)
        accumulator: dict[str, Any] = {"id": f"acc{i}", "measure": draw(st.sampled_from(["volume", "amount"])),
                                       "period": draw(st.sampled_from(["day", "month"])), "thresholds": thresholds}
        if draw(st.integers(0, 3)) == 0:
            accumulator["when"] = {"usage.service": draw(st.sampled_from(services))}
        accumulators.append(accumulator)
    rule_sets: list[dict[str, Any]] = [{"id": "u", "kind": "usage", "timeZone": draw(st.sampled_from(ZONES)),
                                        "rules": rules, "accumulators": accumulators}]
    if draw(st.booleans()):
        rule_sets.append({"id": "v", "kind": "usage", "timeZone": draw(st.sampled_from(ZONES)),
                          "rules": [{"id": "w", "rate": draw(rates(units))}]})
    rule_sets.append(split_rule_set(draw))
    records = []
    for i in range(draw(st.integers(1, 10))):
        volume = decimals(draw, 0, 5000, draw(st.sampled_from([0, 1, 3, 6, 9, 12])))
        if draw(st.integers(0, 20)) == 0:
            volume = Decimal(10**12)
        start = draw(st.sampled_from(STARTS)) + dt.timedelta(seconds=draw(st.sampled_from([0, 0, 1, -1])))
        records.append(UsageRecord(f"u{i:02d}", draw(st.sampled_from(["s0", "s0", "s1", "ghost"])),
                                   draw(st.sampled_from(services)), start, volume,
                                   draw(st.sampled_from([*units, None]))))
    buckets = {}
    for i in range(draw(st.integers(0, 4))):
        unit = draw(st.sampled_from(units + CURRENCIES))
        money = unit in CURRENCIES
        floor = draw(st.sampled_from([Decimal(0), None, Decimal(-5), Decimal("2.5"), Decimal("0.001")])) \
            if money else Decimal(0)
        remaining = decimals(draw, 0, 3000, draw(st.integers(0, 4)))
        if floor is not None and remaining < floor:  # (a file may not hold a balance below its floor)
            remaining += floor
        buckets[f"b{i}"] = Bucket(f"b{i}", draw(st.sampled_from(["s0", "s1"])), unit, remaining,
                                  draw(st.sampled_from([50, 100])),
                                  tuple(draw(st.lists(st.sampled_from(services), max_size=2, unique=True))),
                                  draw(st.sampled_from([None, *STARTS])), draw(st.sampled_from([None, *STARTS])), floor)
    totals = {}
    for accumulator in accumulators:
        for subscriber in SUBSCRIBERS:
            if draw(st.booleans()):
                period = draw(st.sampled_from(["2026-10", "2026-11"] if accumulator["period"] == "month"
                                              else ["2026-10-31", "2026-11-01", "2026-10-25"]))
                totals[AccumulatorKey(f"u/{accumulator['id']}", subscriber, period)] = AccumulatorTotal(
                    decimals(draw, 0, 2000, 2), decimals(draw, 0, 2000, 2), ())
    return rule_sets, records, RatingState(buckets, totals)


@settings(SETTINGS, max_examples=60)
@given(wide_scenarios())
def test_bulk_equals_the_reference_across_units_currencies_floors_and_turns_of_the_clock(scenario) -> None:
    rule_sets, records, state = scenario
    assert_bulk_equals_reference(book_of(rule_sets), records, SUBSCRIBERS, state)


@st.composite
def capped_scenarios(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[UsageRecord], RatingState]:
    """One rule, one accumulator with caps (rateUpToCap mostly), tiers of either mode, buckets
    of units and of the rate's money, a total carried in."""
    units = draw(st.sampled_from([["GB", "MB"], ["min", "s", "h"]]))
    rate = draw(rates(units))
    measure = draw(st.sampled_from(["amount", "volume"]))
    thresholds = []
    levels = sorted({decimals(draw, 1, 3000, draw(st.integers(0, 3))) for _ in range(draw(st.integers(1, 2)))})
    for j, level in enumerate(levels):
        action = draw(st.sampled_from(["block", "block", "notify", "changeRate"]))
        threshold: dict[str, Any] = {"id": f"t{j}", "at": str(level), "action": action}
        if action == "block":
            threshold["reason"] = {"code": f"c{j}", "label": "cap"}
            threshold["crossing"] = draw(st.sampled_from(["rateUpToCap", "rateUpToCap", "rateInFull"]))
        if action == "changeRate":
            threshold["rate"] = draw(rates(units, rate["currency"]))
        thresholds.append(threshold)
    if measure == "volume" and "tiers" in rate and rate["tierMode"] == "graduated" and draw(st.booleans()):
        rate["tiersCount"] = {"accumulator": "a"}
    rule_sets = [{"id": "u", "kind": "usage", "accumulators": [{"id": "a", "measure": measure,
                                                               "thresholds": thresholds}],
                  "rules": [{"id": "r", "rate": rate}]}, split_rule_set(draw)]
    start = dt.datetime(2026, 6, 10, 10, tzinfo=UTC)
    records = [UsageRecord(f"x{i:02d}", "s0", "data", start + dt.timedelta(minutes=i),
                           decimals(draw, 0, 3000, draw(st.sampled_from([0, 1, 2, 3, 6]))),
                           draw(st.sampled_from([*units, None])))
               for i in range(draw(st.integers(1, 8)))]
    buckets = {}
    for i in range(draw(st.integers(0, 3))):
        unit = draw(st.sampled_from([*units, rate["currency"]]))
        floor = draw(st.sampled_from([Decimal(0), None, Decimal("-1.5")])) if unit == rate["currency"] else Decimal(0)
        buckets[f"b{i}"] = Bucket(f"b{i}", "s0", unit, decimals(draw, 0, 2000, draw(st.integers(0, 3))),
                                  draw(st.sampled_from([1, 1, 2])),  # ties of precedence, by services, then id
                                  draw(st.sampled_from([(), ("data",), ("voice",)])), None, None, floor)
    totals = {}
    if draw(st.booleans()):
        totals[AccumulatorKey("u/a", "s0", "2026-06")] = AccumulatorTotal(
            decimals(draw, 0, 1000, 1), decimals(draw, 0, 1000, 1), ())
    return rule_sets, records, RatingState(buckets, totals)


@settings(SETTINGS, max_examples=80)
@given(capped_scenarios())
def test_caps_on_volume_and_amount_with_tiers_buckets_and_shares_cut_as_the_reference_does(scenario) -> None:
    rule_sets, records, state = scenario
    assert_bulk_equals_reference(book_of(rule_sets), records, SUBSCRIBERS, state)


@st.composite
def at_the_level(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[UsageRecord], RatingState]:
    """A first record that takes a volume total exactly to a threshold's level (a tier's bound
    at the same level when the tiers count the total), at a month's turn or a change of the
    clocks in the rule set's time zone, and two records after it."""
    units = draw(st.sampled_from([["GB", "MB"], ["min", "s", "h"]]))
    rate = {**draw(rates(units)), "per": units[0]}
    measure = draw(st.sampled_from(["amount", "volume"]))
    at = decimals(draw, 1, 500, draw(st.integers(0, 2)))
    action = draw(st.sampled_from(["block", "notify", "changeRate"]))
    threshold: dict[str, Any] = {"id": "t", "at": str(at), "action": action}
    if action == "block":
        threshold["reason"] = {"code": "c", "label": "cap"}
        threshold["crossing"] = draw(st.sampled_from(["rateUpToCap", "rateInFull"]))
    if action == "changeRate":
        threshold["rate"] = draw(rates(units, rate["currency"]))
    if "tiers" in rate and rate["tierMode"] == "graduated" and measure == "volume" and draw(st.booleans()):
        rate["tiersCount"] = {"accumulator": "a"}
        rate["tiers"] = [{**rate["tiers"][0], "upTo": str(at)}, rate["tiers"][-1]]
    rule_sets = [{"id": "u", "kind": "usage", "timeZone": draw(st.sampled_from(ZONES[1:])),
                  "accumulators": [{"id": "a", "measure": measure, "period": draw(st.sampled_from(["day", "month"])),
                                    "thresholds": [threshold]}],
                  "rules": [{"id": "r", "rate": rate}]},
                 {"id": "split", "kind": "splitBilling", "default": "payer", "rules": []}]
    start = draw(st.sampled_from(STARTS)) + dt.timedelta(seconds=draw(st.sampled_from([-1, 0, 1])))
    first = at if measure == "volume" else decimals(draw, 1, 500, 2)
    records = [UsageRecord("x0", "s0", "data", start, first, units[0]),
               UsageRecord("x1", "s0", "data", start + dt.timedelta(seconds=1), decimals(draw, 0, 50, 1),
                           draw(st.sampled_from(units))),
               UsageRecord("x2", "s0", "data", start + dt.timedelta(hours=draw(st.integers(0, 30))),
                           decimals(draw, 0, 50, 1), None)]
    return rule_sets, records, RatingState()


@settings(SETTINGS, max_examples=60)
@given(at_the_level())
def test_records_exactly_at_a_level_at_turns_of_the_clock_rate_as_the_reference_does(scenario) -> None:
    rule_sets, records, state = scenario
    assert_bulk_equals_reference(book_of(rule_sets), records, SUBSCRIBERS, state)


@pytest.mark.parametrize("kind", KINDS, ids=["data", "time"])
def test_every_name_of_a_unit_converts_in_bulk_as_in_the_reference(kind: list[str]) -> None:
    start = dt.datetime(2026, 6, 10, 10, tzinfo=UTC)
    records = [UsageRecord(f"x{i:02d}", "s0", "data", start + dt.timedelta(minutes=i), Decimal(volume), unit)
               for i, (unit, volume) in enumerate(itertools.product([*kind, None], ["1", "2.5"]))]
    for per in kind:
        for bucket_unit in [None, *kind[::3]]:
            book = book_of([{"id": "u", "kind": "usage", "accumulators": [
                {"id": "a", "measure": "volume", "thresholds": [
                    {"id": "t", "at": "5", "action": "block", "crossing": "rateUpToCap",
                     "reason": {"code": "c", "label": "cap"}}]}],
                "rules": [{"id": "r", "rate": {"amount": "0.7", "currency": "EUR", "per": per}}]},
                {"id": "split", "kind": "splitBilling", "default": "payer", "rules": []}])
            buckets = {} if bucket_unit is None else {"b": Bucket("b", "s0", bucket_unit, Decimal("1.5"))}
            assert_bulk_equals_reference(book, records, SUBSCRIBERS, RatingState(buckets))


@pytest.mark.parametrize(("per", "unit", "bucket_unit"), [
    ("B", "TB", None), ("TB", "B", "B"), ("B", "TB", "EUR"), ("h", "s", "h"), ("s", "h", None), ("TB", None, "TB")])
@pytest.mark.parametrize("currency", CURRENCIES)
def test_volumes_from_a_trillion_down_to_twelve_decimals_convert_as_the_reference_does(
        per: str, unit: str | None, bucket_unit: str | None, currency: str) -> None:
    volumes = ["1000000000000", "999999999999.999999999999", "0.000000000001", "0", "123456789.123456789012",
               "0.5", "1.5"]
    start = dt.datetime(2026, 6, 10, 10, tzinfo=UTC)
    for amount, measure, at in [("0.00000001", "volume", "0.000001"), ("99999999", "amount", "1000000000000"),
                                ("1", "amount", "0.000001")]:
        book = book_of([{"id": "u", "kind": "usage", "accumulators": [
            {"id": "a", "measure": measure, "thresholds": [
                {"id": "t", "at": at, "action": "block", "crossing": "rateUpToCap",
                 "reason": {"code": "c", "label": "cap"}}]}],
            "rules": [{"id": "r", "rate": {"amount": amount, "currency": currency, "per": per}}]},
            {"id": "split", "kind": "splitBilling", "default": "payer", "rules": []}])
        records = [UsageRecord(f"x{i}", "s0", "data", start + dt.timedelta(minutes=i), Decimal(v), unit)
                   for i, v in enumerate(volumes)]
        records += [UsageRecord(f"y{i}", "s1", "data", start + dt.timedelta(minutes=i), Decimal(v), unit)
                    for i, v in enumerate(volumes[2:])]
        buckets = {} if bucket_unit is None else {
            "b": Bucket("b", "s0", bucket_unit, Decimal(10**12)),
            "c": Bucket("c", "s1", bucket_unit, Decimal("0.000000000001"))}
        assert_bulk_equals_reference(book, records, SUBSCRIBERS, RatingState(buckets))


# ------------------------------------------------------------------------- through files

def _instant(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _write(folder: Path, records: list[UsageRecord], state: RatingState, kind: str) -> Path:
    rows = [{"id": r.id, "subscriber": r.subscriber, "service": r.service, "start": r.start.isoformat(),
             "volume": str(r.volume), "unit": r.unit} for r in records]
    usage = folder / f"usage.{kind}"
    if kind == "csv":
        pl.DataFrame(rows, schema={k: pl.Utf8 for k in ["id", "subscriber", "service", "start", "volume", "unit"]}
                     ).write_csv(usage)
    else:
        usage.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "subscribers.jsonl").write_text("".join(
        json.dumps({"id": s.id, "payers": dict(s.payers), "splitBilling": s.split_billing}) + "\n"
        for s in SUBSCRIBERS.values()), encoding="utf-8")
    (folder / "buckets.jsonl").write_text("".join(json.dumps(
        {"id": b.id, "subscriber": b.subscriber, "unit": b.unit, "remaining": str(b.remaining),
         "precedence": b.precedence, "services": list(b.services), "validFrom": _instant(b.valid_from),
         "validTo": _instant(b.valid_to), "floor": None if b.floor is None else str(b.floor)}) + "\n"
        for b in state.buckets.values()), encoding="utf-8")
    (folder / "totals.jsonl").write_text("".join(json.dumps(
        {"accumulator": k.accumulator, "subscriber": k.subscriber, "period": k.period, "volume": str(v.volume),
         "amount": str(v.amount), "reached": list(v.reached)}) + "\n"
        for k, v in state.accumulators.items()), encoding="utf-8")
    return usage


@settings(SETTINGS, max_examples=12)
@given(wide_scenarios(), st.sampled_from(["csv", "jsonl"]), st.sampled_from([1, 3, 100]), st.data())
def test_a_file_with_offsets_fractions_and_ids_given_twice_rates_as_the_reference(
        scenario, kind: str, chunk: int, data: st.DataObject) -> None:
    rule_sets, records, state = scenario
    records = [replace(r, start=(r.start + dt.timedelta(microseconds=data.draw(st.sampled_from([0, 1, 500_000]))))
                       .astimezone(dt.timezone(dt.timedelta(hours=data.draw(st.sampled_from([0, 2, -5, 5.5]))))))
               for r in records]
    for _ in range(data.draw(st.integers(0, 2))):  # an id given again, before or after the first
        records.insert(data.draw(st.integers(0, len(records))),
                       replace(records[data.draw(st.integers(0, len(records) - 1))],
                               id=records[data.draw(st.integers(0, len(records) - 1))].id))
    firsts = list({r.id: r for r in reversed(records)}.values())  # the first of each id in file order
    book = book_of(rule_sets)
    expected, expected_state = rate_records(firsts, SUBSCRIBERS, book, state)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        usage = _write(folder, records, state, kind)
        rate_file(book, usage, folder / "subscribers.jsonl", folder / "rated.parquet",
                  buckets=folder / "buckets.jsonl", accumulators=folder / "totals.jsonl",
                  state_out=folder / "state", chunk_size=chunk)
        got = rated_usages(pl.read_parquet(folder / "rated.parquet"))
        names = state_names(book)
        got_state = BulkState(read_buckets(folder / "state" / "buckets.jsonl", names),
                              read_accumulators(folder / "state" / "accumulators.jsonl", names)).to_rating_state()
    assert len(got) == len(records)
    duplicates = [r for r in got if r.reasons and r.reasons[0]["code"] == "duplicateId"]
    assert len(duplicates) == len(records) - len(firsts)
    rated = {r.record.id: r for r in got if r not in duplicates}
    assert set(rated) == {r.record.id for r in expected}
    for reference in expected:
        mine = rated[reference.record.id]
        assert (mine.record.start, mine.record.volume, mine.record.unit) == \
            (reference.record.start, reference.record.volume, reference.record.unit)
        assert replace(mine, record=reference.record) == reference, f"\nbulk:      {mine}\nreference: {reference}"
    assert dict(got_state.buckets) == dict(expected_state.buckets)
    assert dict(got_state.accumulators) == dict(expected_state.accumulators)
