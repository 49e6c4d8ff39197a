"""The decision cache is exact (issue 12): a decision taken from it is the decision the
engine takes for the same facts.

Rule sets are generated with time-of-day windows, weekdays, instant comparisons, validity
dates, texts, numbers and lists, in zones with and without summer time; facts are drawn
on, just before and just after every boundary those rules have (window edges on the days
the clocks change, validity starts and ends, compared instants), so that facts sharing a
projection — and hence a cache entry — sit on both sides of every boundary.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bssrules.configurator.remembered import decided
from bssrules.rules import decision_cache
from bssrules.rules.compiled import CompiledRuleSet, compile_rule_set
from bssrules.rules.decisions import Decision, decide, decide_many, decide_values, fact_values
from bssrules.rules.model import SplitBillingRuleSet, UsageRuleSet

UTC = dt.timezone.utc
ZONES = ["UTC", "Europe/Nicosia", "America/St_Johns", "Asia/Kathmandu", "Australia/Lord_Howe"]
# The days the clocks change in those zones in 2026, and an ordinary day.
DAYS = [dt.date(2026, 3, 8), dt.date(2026, 3, 29), dt.date(2026, 4, 5), dt.date(2026, 6, 1),
        dt.date(2026, 10, 4), dt.date(2026, 10, 25), dt.date(2026, 11, 1)]
MINUTES = st.sampled_from(["00:00", "00:01", "01:59", "02:00", "02:30", "03:00", "06:59", "07:00", "12:00", "23:59"])
INSTANTS = st.sampled_from(DAYS).flatmap(
    lambda day: st.tuples(st.integers(0, 23), st.sampled_from([0, 1, 30, 59])).map(
        lambda hm: dt.datetime(day.year, day.month, day.day, hm[0], hm[1], tzinfo=UTC)))
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TEXTS = st.sampled_from(["VIP", "GOLD", "other", ""])
NUMBERS = st.sampled_from([Decimal("0"), Decimal("18"), Decimal("18.5"), Decimal("65")])
OFFERINGS = st.sampled_from(["a", "b", "c"])


def _iso(instant: dt.datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


LEAVES = st.one_of(
    st.builds(lambda a, b: {"usage.start": {"timeOfDay": {"from": a, "to": b}}}, MINUTES, MINUTES),
    st.builds(lambda d: {"now": {"dayOfWeek": d}}, st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3,
                                                             unique=True)),
    st.builds(lambda op, i: {"usage.start": {op: _iso(i)}}, st.sampled_from(["lt", "lte", "gt", "gte"]), INSTANTS),
    st.builds(lambda a, b: {"now": {"between": [_iso(min(a, b)), _iso(max(a, b))]}}, INSTANTS, INSTANTS),
    st.builds(lambda v: {"party.classification": v}, TEXTS),
    st.builds(lambda v: {"party.classification": {"in": v}}, st.lists(TEXTS, min_size=1, max_size=2, unique=True)),
    st.builds(lambda op, v: {"party.age": {op: v}}, st.sampled_from(["lt", "gte", "eq", "ne"]), NUMBERS),
    st.builds(lambda v: {"inventory.activeOfferings": {"contains": v}}, OFFERINGS),
    st.builds(lambda v: {"usage.roaming": v}, st.booleans()),
    st.builds(lambda v: {"usage.service": {"exists": v}}, st.booleans()),
)
CONDITIONS = st.recursive(LEAVES, lambda inner: st.one_of(
    st.builds(lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=2)),
    st.builds(lambda item: {"not": item}, inner)), max_leaves=5)
VALIDITY = st.one_of(st.just({}), st.builds(lambda i: {"start": _iso(i)}, INSTANTS),
                     st.builds(lambda i: {"end": _iso(i)}, INSTANTS))


@st.composite
def usage_rule_sets(draw: st.DrawFn) -> UsageRuleSet:
    rules = [{"id": f"r{i}", "when": draw(CONDITIONS), "validFor": draw(VALIDITY),
              "rate": {"amount": i, "currency": "EUR"}} for i in range(draw(st.integers(1, 4)))]
    rule_set: dict[str, Any] = {"id": "generated", "kind": "usage", "timeZone": draw(st.sampled_from(ZONES)),
                                "rules": rules}
    if draw(st.booleans()):
        rule_set["appliesTo"] = draw(CONDITIONS)
    if draw(st.booleans()):
        rule_set["prerequisites"] = [{"id": "p", "when": draw(CONDITIONS), "reason": {"code": "p", "label": "P"}}]
    if draw(st.booleans()):
        rule_set["accumulators"] = [{"id": "acc", "period": "month", "measure": "amount", "when": draw(CONDITIONS)}]
    return UsageRuleSet.model_validate(rule_set)


def _boundaries(compiled: CompiledRuleSet) -> list[dt.datetime]:
    """Every instant a test of the rule set turns at: compared instants, validity ends, and
    the edges of its time-of-day windows on each day (clock changes included), in its zone."""
    found: list[dt.datetime] = []
    for text in _strings(compiled.definition.model_dump(mode="json", by_alias=True)):
        try:
            found.append(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            if len(text) == 5 and text[2] == ":":
                minute = dt.time(int(text[:2]), int(text[3:]))
                for day in DAYS:
                    for fold in (0, 1):
                        local = dt.datetime.combine(day, minute, tzinfo=compiled.zone).replace(fold=fold)
                        found += [local.astimezone(UTC), (local + dt.timedelta(minutes=1)).astimezone(UTC)]
    return found


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


NEAR = [dt.timedelta(0), dt.timedelta(microseconds=1), -dt.timedelta(microseconds=1), dt.timedelta(seconds=59),
        -dt.timedelta(seconds=1), dt.timedelta(minutes=1), -dt.timedelta(minutes=1), dt.timedelta(hours=1)]


@st.composite
def facts_near(draw: st.DrawFn, compiled: CompiledRuleSet) -> dict[str, Any]:
    boundaries = _boundaries(compiled) or [dt.datetime(2026, 6, 1, tzinfo=UTC)]
    start = draw(st.sampled_from(boundaries)) + draw(st.sampled_from(NEAR))
    now = start if draw(st.booleans()) else draw(st.sampled_from(boundaries)) + draw(st.sampled_from(NEAR))
    facts: dict[str, Any] = {"usage": {"start": start, "volume": draw(st.integers(0, 10**6))}, "now": now}
    if draw(st.booleans()):
        facts["usage"]["service"] = "ppv-movie"
    if draw(st.booleans()):
        facts["usage"]["roaming"] = draw(st.booleans())
    party: dict[str, Any] = {}
    if draw(st.booleans()):
        party["classification"] = draw(st.sampled_from(["VIP", "GOLD", "other", "", "SILVER"]))
    if draw(st.booleans()):
        party["age"] = draw(st.sampled_from([Decimal("0"), Decimal("17.99"), Decimal("18"), Decimal("18.0"),
                                             Decimal("18.5"), Decimal("40"), Decimal("65"), Decimal("70")]))
    if party:
        facts["party"] = party
    if draw(st.booleans()):
        facts["inventory"] = {"activeOfferings": draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=3))}
    return facts


def _plain(decisions: list[Decision]) -> list[dict[str, Any]]:
    return [d.to_dict(with_trace=False) for d in decisions]


SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(data=st.data(), rule_set=usage_rule_sets())
def test_a_cached_decision_is_the_decision_the_engine_takes_on_and_around_every_boundary(
        data: st.DataObject, rule_set: UsageRuleSet) -> None:
    compiled = compile_rule_set(rule_set)
    facts = data.draw(st.lists(facts_near(compiled), min_size=1, max_size=12))
    # the engine itself, checked rule by rule against the reference evaluator (with_trace)
    reference = [{**d, "explanation": None} for d in (x.to_dict() for x in decide_many(compiled, facts))]
    expected = [{k: v for k, v in d.items() if k != "explanation"} for d in reference]
    # first pass fills the cache (and hits it between facts that share a projection) ...
    assert _plain(decide_many(compiled, facts, with_trace=False)) == expected
    # ... the second takes every decision from it; one by one, in another order, alike
    assert _plain(decide_many(compiled, facts, with_trace=False)) == expected
    assert [decide(compiled, f, with_trace=False).to_dict(with_trace=False) for f in reversed(facts)] \
        == expected[::-1]


def test_facts_that_no_test_tells_apart_are_decided_once(monkeypatch: Any) -> None:
    compiled = compile_rule_set(UsageRuleSet.model_validate({"id": "night", "kind": "usage", "timeZone": "Europe/Nicosia",
        "rules": [{"id": "night", "when": {"usage.start": {"timeOfDay": {"from": "00:01", "to": "06:59"}}},
                   "rate": {"amount": 1, "currency": "EUR"}},
                  {"id": "day", "rate": {"amount": 2, "currency": "EUR"}}]}))
    calls: list[int] = []
    engine = compiled.engine
    matching_many = engine.matching_many
    monkeypatch.setattr(engine, "matching_many", lambda values, *a: calls.append(len(values)) or matching_many(values, *a))

    def rule(at: dt.datetime) -> str:
        return str(decide(compiled, {"usage": {"start": at}}, with_trace=False).outcome["rule"])

    # 01:00 and 05:30 in Nicosia (UTC+3 in June) are one slot: the engine is asked once
    assert rule(dt.datetime(2026, 6, 1, 22, 0, tzinfo=UTC)) == "night"
    assert rule(dt.datetime(2026, 6, 2, 2, 30, tzinfo=UTC)) == "night"
    assert calls == [1]
    # 06:59 local is still the night, 07:00 is not: another slot, asked again
    assert rule(dt.datetime(2026, 6, 2, 3, 59, 59, tzinfo=UTC)) == "night"
    assert rule(dt.datetime(2026, 6, 2, 4, 0, tzinfo=UTC)) == "day"
    assert calls == [1, 1]
    # a caller changing its outcome does not change what the next caller gets
    decide(compiled, {"usage": {"start": dt.datetime(2026, 6, 2, 4, 0, tzinfo=UTC)}}, with_trace=False
           ).outcome["rate"]["amount"] = Decimal(99)
    assert decide(compiled, {"usage": {"start": dt.datetime(2026, 6, 2, 5, 0, tzinfo=UTC)}}, with_trace=False
                  ).outcome["rate"]["amount"] == Decimal(2)


def test_the_cache_keeps_at_most_its_size_and_goes_with_its_rule_set() -> None:
    compiled = compile_rule_set(SplitBillingRuleSet.model_validate({"id": "split", "kind": "splitBilling",
        "rules": [{"id": "big", "when": {"charge.amount": {"gte": 100}}, "payer": "employer"}], "default": "payer"}))
    memo = decision_cache.memo_of(compiled)
    memo.size = 2
    payers = [decide(compiled, {"charge": {"amount": a}}, with_trace=False).outcome["payer"] for a in (1, 100, 150, 99)]
    assert payers == ["payer", "employer", "employer", "payer"]
    assert len(memo.entries) == 2  # three projections seen (below, at, above 100): the oldest went
    key = id(compiled)
    del compiled, memo
    import gc

    gc.collect()
    assert key not in decision_cache._memos


@st.composite
def split_facts(draw: st.DrawFn, values: dict[str, Any], donor: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Typed values cut into (shared, own) so that ``{**shared, **own} == values``; the
    shared part may also hold another fact set's value of an attribute the own part gives
    (the own value wins, as in a basket)."""
    own_attributes = draw(st.sets(st.sampled_from(sorted(values))))
    shared = {a: v for a, v in values.items() if a not in own_attributes}
    for attribute in sorted(own_attributes):
        if attribute in donor and draw(st.booleans()):
            shared[attribute] = donor[attribute]
    return shared, {a: values[a] for a in own_attributes}


@SETTINGS
@given(data=st.data(), rule_set=usage_rule_sets())
def test_split_keys_are_equal_only_for_facts_whose_merged_projection_is_equal(
        data: st.DataObject, rule_set: UsageRuleSet) -> None:
    compiled = compile_rule_set(rule_set)
    memo = decision_cache.memo_of(compiled)
    values = [fact_values(f) for f in data.draw(st.lists(facts_near(compiled), min_size=2, max_size=8))]
    splits = [data.draw(split_facts(v, data.draw(st.sampled_from(values)))) for v in values]
    for (shared, own), merged in zip(splits, values):
        assert {**shared, **own} == merged
    lasting = [MappingProxyType(own) for _, own in splits]
    keys = [memo.split_keys(shared, [own], remember_own=data.draw(st.booleans()))[0]
            for (shared, _), own in zip(splits, lasting)]
    flat = [memo.projection.key(v) for v in values]
    for i in range(len(values)):
        for j in range(len(values)):
            if keys[i] == keys[j]:
                assert flat[i] == flat[j], (values[i], values[j])
    # an own part kept with its mapping makes the same key again
    again = [memo.split_keys(shared, [own])[0] for (shared, _), own in zip(splits, lasting)]
    assert [memo.split_keys(shared, [own])[0] for (shared, _), own in zip(splits, lasting)] == again


@SETTINGS
@given(data=st.data(), rule_set=usage_rule_sets())
def test_decisions_remembered_by_split_keys_are_the_engines(data: st.DataObject, rule_set: UsageRuleSet) -> None:
    compiled = compile_rule_set(rule_set)
    values = [fact_values(f) for f in data.draw(st.lists(facts_near(compiled), min_size=1, max_size=8))]
    owns = [MappingProxyType({a: v for a, v in own.items() if data.draw(st.booleans())}) for own in values]
    # baskets' parties, dates, inventories: each the same for every own part, one after the other
    shareds = [data.draw(st.sampled_from(values)) for _ in range(3)]
    for shared in shareds + shareds:  # the first round fills the cache, the second takes decisions from it
        # the engine, checked rule by rule against the reference evaluator (with_trace)
        expected = [d.to_dict(with_trace=False) for d in decide_values(compiled, owns, shared, with_trace=True)]
        assert [d.to_dict(with_trace=False) for d in decided(compiled, owns, shared, False)] == expected
        assert [d.to_dict(with_trace=False) for d in decided(compiled, [dict(o) for o in owns], shared, False,
                                                             lasting=False)] == expected


def test_the_parts_of_split_keys_are_kept_within_the_caches_size() -> None:
    compiled = compile_rule_set(SplitBillingRuleSet.model_validate({"id": "split", "kind": "splitBilling",
        "rules": [{"id": "big", "when": {"charge.amount": {"gte": 100}}, "payer": "employer"}], "default": "payer"}))
    memo = decision_cache.memo_of(compiled)
    memo.size = 2
    owns = [MappingProxyType({"charge.amount": Decimal(a)}) for a in (1, 150, 200, 99, 5)]
    keys = memo.split_keys({"now": dt.datetime(2026, 6, 1, tzinfo=UTC)}, owns)
    assert len(memo._own_parts) <= 2 and len(memo._numbers) <= 2
    # below 100 is one part, above it another: the keys say so while their numbers are kept
    assert keys[2] == keys[1] != keys[0]
    payers = [d.outcome["payer"] for d in decided(compiled, owns, {"now": dt.datetime(2026, 6, 1, tzinfo=UTC)}, False)]
    assert payers == ["payer", "employer", "employer", "payer", "payer"]
