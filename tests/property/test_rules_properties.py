"""Properties of the rule language, on generated conditions, rule sets and facts.

The engine (durable-rules, through :class:`bssrules.rules.engine.RuleEngine`) is checked
against the reference evaluator (:func:`bssrules.rules.evaluate.holds`) on conditions over
strings, numbers, booleans, date-times and lists, with ``not``/``any``/``all`` and absent
attributes; then compatibility, eligibility and validity keep their promises whatever the
rules and the facts.

Numbers run from ordinary ones (up to 9 significant digits) to what the API and the YAML
accept: up to 40 significant digits, exponents past both ends of the float range, and
numbers a unit of their 17th to 30th digit away from the shared ones (the same float, not
the same number). tests/property/test_exact_decisions.py goes to the very limits.
"""
from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bssrules.catalog.types import ValidFor
from bssrules.rules.compile import TooComplex, to_dnf, to_nnf
from bssrules.rules.compiled import CompileError, compile_rule_set
from bssrules.rules.conditions import Condition, parse_condition
from bssrules.rules.decisions import decide, decide_many
from bssrules.rules.engine import RuleEngine
from bssrules.rules.evaluate import holds
from bssrules.rules.facts import typed_facts
from bssrules.rules.model import CompatibilityRuleSet, EligibilityRuleSet, UsageRuleSet

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

# --- values ------------------------------------------------------------------------------

# Texts that could trip a JSON or pattern layer: quotes, blanks, digits, markup, non-ASCII.
TEXTS = st.sampled_from(["VIP", "GOLD", "", "a b", 'q"x', "back\\slash", "é", "11", "11.0", "[x]", "$x", "日本"])
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _safe(number: Decimal) -> bool:
    return number == 0 or Decimal("0.0001") <= abs(number) < Decimal(10) ** 15


_EXACT = decimal.Context(prec=100)
SHARED_NUMBERS = [Decimal(v) for v in ("0", "1", "-1", "2.5", "18", "99.5", "100", "0.0001", "123456789", "-0.5")]
NUMBERS = st.one_of(
    st.sampled_from(SHARED_NUMBERS),
    st.builds(lambda m, e: Decimal(m).scaleb(e), st.integers(-999_999_999, 999_999_999), st.integers(-12, 6)
              ).filter(_safe),
    # high precision and far from one, beyond the float range both ways (exact: no context rounding)
    st.builds(lambda m, e: Decimal(f"{m}E{e}"), st.integers(-(10 ** 40), 10 ** 40), st.integers(-420, 420)),
    # a shared number moved by one unit of a digit floats do not keep
    st.builds(lambda n, step, digit: _EXACT.add(n, Decimal(f"{step}E-{digit}")), st.sampled_from(SHARED_NUMBERS),
              st.sampled_from([-1, 1]), st.integers(17, 30)),
)
# Instants around the edges that matter: midnights, the 06:59/07:00 of a night window, the
# switch to summer time in Nicosia (2026-03-29 01:00 UTC), a Sunday night.
SHARED_INSTANTS = [dt.datetime(2026, 3, 28, 22, 0, tzinfo=UTC), dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC),
                   dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), dt.datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
                   dt.datetime(2026, 6, 1, 3, 59, tzinfo=UTC), dt.datetime(2026, 6, 1, 4, 0, tzinfo=UTC),
                   dt.datetime(2026, 6, 1, 6, 59, 59, 999999, tzinfo=UTC), dt.datetime(2026, 6, 7, 21, 0, tzinfo=UTC)]
INSTANTS = st.one_of(
    st.sampled_from(SHARED_INSTANTS),
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(UTC)),
)
ZONES = st.sampled_from([ZoneInfo(z) for z in ("UTC", "Europe/Nicosia", "Asia/Kathmandu", "America/St_Johns")])
IDS = ["a", "b", "c", "d", "e"]

ATTRIBUTES = {
    "party.classification": "string", "channel.id": "string", "party.age": "number", "charge.amount": "number",
    "usage.roaming": "boolean", "usage.start": "datetime", "inventory.offerings": "list",
}


def _iso(instant: dt.datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _unique(values: st.SearchStrategy, max_size: int = 3) -> st.SearchStrategy[list]:
    return st.lists(values, min_size=1, max_size=max_size, unique=True)


def _between(values: st.SearchStrategy) -> st.SearchStrategy[list]:
    return st.tuples(values, values).map(sorted).map(list)


HOUR_MINUTE = st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda hm: f"{hm[0]:02d}:{hm[1]:02d}")
SHARED_MINUTES = st.sampled_from(["00:00", "00:01", "06:59", "07:00", "23:59", "12:00"])


def _tests(kind: str) -> st.SearchStrategy[Any]:
    """The operand of an attribute: a plain value or ``{op: operand}``."""
    exists = st.builds(lambda b: {"exists": b}, st.booleans())
    if kind == "string":
        return st.one_of(TEXTS, st.builds(lambda op, v: {op: v}, st.sampled_from(["eq", "ne"]), TEXTS),
                         st.builds(lambda op, v: {op: v}, st.sampled_from(["in", "notIn"]), _unique(TEXTS)), exists)
    if kind == "number":
        return st.one_of(NUMBERS, st.builds(lambda op, v: {op: v}, st.sampled_from(["eq", "ne", "lt", "lte", "gt",
                                                                                    "gte"]), NUMBERS),
                         st.builds(lambda op, v: {op: v}, st.sampled_from(["in", "notIn"]), _unique(NUMBERS)),
                         st.builds(lambda v: {"between": v}, _between(NUMBERS)), exists)
    if kind == "boolean":
        return st.one_of(st.booleans(), st.builds(lambda op, v: {op: v}, st.sampled_from(["eq", "ne"]), st.booleans()),
                         exists)
    if kind == "datetime":
        window = st.builds(lambda a, b: {"timeOfDay": {"from": a, "to": b}}, st.one_of(SHARED_MINUTES, HOUR_MINUTE),
                           st.one_of(SHARED_MINUTES, HOUR_MINUTE))
        days = st.builds(lambda d: {"dayOfWeek": d},
                         st.one_of(st.sampled_from(DAYS), _unique(st.sampled_from(DAYS), 7)))
        return st.one_of(st.builds(lambda op, v: {op: _iso(v)}, st.sampled_from(["lt", "lte", "gt", "gte"]), INSTANTS),
                         st.builds(lambda v: {"between": [_iso(i) for i in v]}, _between(INSTANTS)), window, days,
                         exists)
    members = st.sampled_from(["VIP", "", "a b", 'q"x', "11", "é"])
    return st.one_of(members, st.builds(lambda op, v: {op: v}, st.sampled_from(["contains", "notContains"]), members),
                     st.builds(lambda op, v: {op: v}, st.sampled_from(["containsAny", "containsAll"]),
                               _unique(members)),
                     exists)


LEAVES = st.one_of(*(st.builds(lambda test, a=attribute: {a: test}, _tests(kind))
                     for attribute, kind in ATTRIBUTES.items()))


def _merge(parts: tuple[dict, dict]) -> dict:
    """Two conditions as one mapping (all of them) when they name different attributes."""
    first, second = parts
    return {**first, **second} if not set(first) & set(second) else {"all": [first, second]}


RAW_CONDITIONS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.builds(lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)),
                            st.builds(lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=3)),
                            st.builds(lambda item: {"not": item}, inner),
                            st.tuples(inner, inner).map(_merge)),
    max_leaves=5,
)


def parsed(raw: dict) -> Condition:
    problems: list = []
    condition = parse_condition(raw, (), lambda path, message, suggestion: problems.append((path, message)))
    assert not problems and condition is not None, (raw, problems)
    return condition


def compilable(condition: Condition) -> bool:
    try:
        to_dnf(to_nnf(condition))
    except TooComplex:
        return False
    return True


CONDITIONS = RAW_CONDITIONS.map(parsed).filter(compilable)


def _fact_value(kind: str) -> st.SearchStrategy[Any]:
    if kind == "string":
        return TEXTS
    if kind == "number":
        return NUMBERS
    if kind == "boolean":
        return st.booleans()
    if kind == "datetime":
        return st.one_of(INSTANTS, INSTANTS.map(_iso))
    return st.lists(st.sampled_from(["VIP", "", "a b", 'q"x', "11", "é", "other"]), max_size=4)


@st.composite
def nested_facts(draw: st.DrawFn) -> dict:
    """Facts as a caller writes them ({"party": {"age": 30}}), each attribute present or absent."""
    facts: dict = {}
    for attribute, kind in ATTRIBUTES.items():
        if draw(st.booleans()):
            group, name = attribute.split(".")
            facts.setdefault(group, {})[name] = draw(_fact_value(kind))
    return facts


def values_of(facts: dict) -> dict:
    values = typed_facts(facts)
    values["now"] = NOW
    return values


# --- the engine against the reference evaluator --------------------------------------------


@settings(SETTINGS, max_examples=300)
@given(conditions=st.lists(CONDITIONS, min_size=1, max_size=5), facts=st.lists(nested_facts(), min_size=1, max_size=4),
       zone=ZONES)
def test_the_engine_matches_exactly_the_rules_the_reference_evaluator_holds(conditions: list, facts: list,
                                                                            zone: ZoneInfo) -> None:
    rules = [(f"r{i}", c) for i, c in enumerate(conditions)]
    engine = RuleEngine(rules, zone)
    values = [values_of(f) for f in facts]
    expected = [{key for key, condition in rules if holds(condition, v, zone)} for v in values]
    assert engine.matching_many(values) == expected
    assert [engine.matching(v) for v in values] == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(condition=CONDITIONS, facts=st.lists(nested_facts(), min_size=1, max_size=3), zone=ZONES,
       copies=st.integers(60, 130))
def test_the_engine_agrees_with_the_evaluator_when_one_condition_is_repeated_past_the_engine_limits(
        condition: Condition, facts: list, zone: ZoneInfo, copies: int) -> None:
    # more rules that can hold at once than the engine takes in one of its rule sets (64)
    rules = [(f"r{i}", condition) for i in range(copies)]
    engine = RuleEngine(rules, zone)
    values = [values_of(f) for f in facts]
    assert engine.matching_many(values) == [{k for k, _ in rules} if holds(condition, v, zone) else set()
                                            for v in values]


# --- compatibility -------------------------------------------------------------------------

COMPATIBILITY_RULES = st.lists(
    st.one_of(
        st.builds(lambda t, s, o: {"type": t, "subject": {"productOffering": s}, "target": {"productOffering": o}},
                  st.sampled_from(["required", "forbidden", "optional"]), st.sampled_from(IDS), st.sampled_from(IDS)
                  ).filter(lambda r: r["subject"] != r["target"]),
        st.builds(lambda s, among: {"type": "exactlyOne", "subject": {"productOffering": s}, "among": among},
                  st.sampled_from(IDS), st.lists(st.sampled_from(IDS), min_size=2, max_size=4, unique=True)),
    ),
    min_size=1, max_size=8,
)
BASKETS = st.lists(st.sampled_from(IDS), max_size=8)


def compatibility(rules: list[dict]) -> Any:
    rule_set = CompatibilityRuleSet.model_validate(
        {"id": "generated", "kind": "compatibility", "rules": [{"id": f"r{i}", **r} for i, r in enumerate(rules)]})
    return compile_rule_set(rule_set)


def violations(compiled: Any, basket: list[str]) -> list[str]:
    return decide(compiled, {"present": {"productOfferings": basket}}, NOW).fired


def broken(rules: list[dict], basket: list[str]) -> list[str]:
    """The rules a basket breaks, decided in plain Python."""
    present = set(basket)
    out = []
    for i, rule in enumerate(rules):
        subject = rule["subject"]["productOffering"]
        if subject not in present or rule["type"] == "optional":
            continue
        if rule["type"] == "exactlyOne":
            wrong = len(present & set(rule["among"])) != 1
        else:
            target_present = rule["target"]["productOffering"] in present
            wrong = target_present if rule["type"] == "forbidden" else not target_present
        if wrong:
            out.append(f"r{i}")
    return out


@SETTINGS
@given(rules=COMPATIBILITY_RULES, basket=BASKETS)
def test_a_basket_breaks_exactly_the_compatibility_rules_it_breaks(rules: list[dict], basket: list[str]) -> None:
    assert violations(compatibility(rules), basket) == broken(rules, basket)


@SETTINGS
@given(rules=COMPATIBILITY_RULES, basket=BASKETS, pair=st.tuples(st.sampled_from(IDS), st.sampled_from(IDS)))
def test_no_basket_containing_a_forbidden_pair_is_ever_valid(rules: list[dict], basket: list[str],
                                                            pair: tuple[str, str]) -> None:
    assume(pair[0] != pair[1])
    rules = rules + [{"type": "forbidden", "subject": {"productOffering": pair[0]},
                      "target": {"productOffering": pair[1]}}]
    compiled = compatibility(rules)
    decision = decide(compiled, {"present": {"productOfferings": basket + list(pair)}}, NOW)
    assert decision.outcome["valid"] is False
    assert f"r{len(rules) - 1}" in decision.fired


def _names(rule: dict, item: str) -> bool:
    return item in (rule["subject"]["productOffering"], rule.get("target", {}).get("productOffering")) \
        or item in rule.get("among", [])


@SETTINGS
@given(rules=COMPATIBILITY_RULES, basket=BASKETS, data=st.data())
def test_adding_the_required_target_of_a_present_subject_adds_no_violation_of_other_rules(
        rules: list[dict], basket: list[str], data: st.DataObject) -> None:
    """Adding the target resolves the required rule, and any new violation is of a rule that
    speaks of the target itself (it is forbidden with something, requires something, or is
    one of an exactlyOne)."""
    required = [i for i, r in enumerate(rules) if r["type"] == "required"]
    assume(required)
    index = data.draw(st.sampled_from(required))
    subject, target = rules[index]["subject"]["productOffering"], rules[index]["target"]["productOffering"]
    basket = basket + [subject]
    compiled = compatibility(rules)
    before, after = set(violations(compiled, basket)), set(violations(compiled, basket + [target]))
    assert f"r{index}" not in after
    assert all(_names(rules[int(key[1:])], target) for key in after - before), (before, after)


@SETTINGS
@given(rules=st.lists(st.builds(lambda s, o: {"type": "required", "subject": {"productOffering": s},
                                              "target": {"productOffering": o}},
                                st.sampled_from(IDS), st.sampled_from(IDS)).filter(
    lambda r: r["subject"] != r["target"]), min_size=1, max_size=8), basket=BASKETS, data=st.data())
def test_with_only_required_rules_adding_every_missing_target_leaves_a_basket_valid(
        rules: list[dict], basket: list[str], data: st.DataObject) -> None:
    compiled = compatibility(rules)
    closed = set(basket)
    while True:  # close the basket under "requires"
        missing = {r["target"]["productOffering"] for r in rules if r["subject"]["productOffering"] in closed} - closed
        if not missing:
            break
        closed |= missing
    order = data.draw(st.permutations(sorted(closed)))
    assert violations(compiled, list(order)) == []


# --- eligibility ---------------------------------------------------------------------------


def eligibility(when: dict) -> Any:
    return compile_rule_set(EligibilityRuleSet.model_validate({"id": "generated", "kind": "eligibility", "rules": [
        {"id": "rule", "when": when, "reason": {"code": "no", "label": "Not eligible"}}]}))


@SETTINGS
@given(wide=RAW_CONDITIONS, extra=RAW_CONDITIONS, facts=st.lists(nested_facts(), min_size=1, max_size=5))
def test_narrowing_an_eligibility_condition_never_qualifies_more_facts(wide: dict, extra: dict, facts: list) -> None:
    assume(compilable(parsed({"all": [wide, extra]})) and compilable(parsed(wide)))
    try:  # (a rule's condition joined with what the rule set adds may pass what the engine takes)
        loose, strict = eligibility(wide), eligibility({"all": [wide, extra]})
    except CompileError:
        assume(False)
    loose_decisions = decide_many(loose, facts, NOW)
    strict_decisions = decide_many(strict, facts, NOW)
    for loose_decision, strict_decision in zip(loose_decisions, strict_decisions):
        assert not strict_decision.outcome["qualified"] or loose_decision.outcome["qualified"]


# --- determinism and order -----------------------------------------------------------------


@SETTINGS
@given(conditions=st.lists(RAW_CONDITIONS, min_size=1, max_size=4), facts=st.lists(nested_facts(), min_size=1,
                                                                                  max_size=6), data=st.data())
def test_decisions_do_not_depend_on_repetition_nor_on_the_order_of_facts_or_of_lists(
        conditions: list[dict], facts: list[dict], data: st.DataObject) -> None:
    assume(all(compilable(parsed(c)) for c in conditions))
    compiled = compile_rule_set(UsageRuleSet.model_validate({"id": "generated", "kind": "usage", "rules": [
        {"id": f"r{i}", "when": c, "rate": {"amount": i, "currency": "EUR"}} for i, c in enumerate(conditions)]}))
    first = [d.to_dict() for d in decide_many(compiled, facts, NOW)]
    assert [d.to_dict() for d in decide_many(compiled, facts, NOW)] == first
    assert [decide(compiled, f, NOW).to_dict() for f in facts] == first
    order = data.draw(st.permutations(range(len(facts))))
    assert [d.to_dict() for d in decide_many(compiled, [facts[i] for i in order], NOW)] == [first[i] for i in order]

    def shuffled(f: dict) -> dict:
        offerings = f.get("inventory", {}).get("offerings")
        if offerings is None:
            return f
        again = data.draw(st.permutations(offerings + offerings[:1]))  # another order, and a repeated item
        return {**f, "inventory": {**f["inventory"], "offerings": list(again)}}

    assert [d.to_dict() for d in decide_many(compiled, [shuffled(f) for f in facts], NOW)] == first


# --- validity ------------------------------------------------------------------------------

BOUNDS = ["2025-01-01", "2026-03-29T01:00:00Z", "2026-06-01", "2026-06-01T12:00:00Z", "2027-01-01"]


@st.composite
def validities(draw: st.DrawFn) -> dict:
    """A validFor: no bound, a start, an end, or both (start before end)."""
    chosen = sorted(draw(st.lists(st.integers(0, len(BOUNDS) - 1), max_size=2, unique=True)))
    if len(chosen) == 2:
        return {"start": BOUNDS[chosen[0]], "end": BOUNDS[chosen[1]]}
    if len(chosen) == 1:
        return {draw(st.sampled_from(["start", "end"])): BOUNDS[chosen[0]]}
    return {}


@SETTINGS
@given(valid_for=validities(), now=st.one_of(st.sampled_from(SHARED_INSTANTS + [NOW]), INSTANTS),
       raw_when=RAW_CONDITIONS, facts=nested_facts())
def test_a_rule_outside_its_validity_never_fires(valid_for: dict, now: dt.datetime, raw_when: dict,
                                                 facts: dict) -> None:
    assume(compilable(parsed(raw_when)))
    in_force = ValidFor.model_validate(valid_for).contains(now)
    usage = compile_rule_set(UsageRuleSet.model_validate({"id": "u", "kind": "usage", "rules": [
        {"id": "dated", "when": raw_when, "validFor": valid_for, "rate": {"amount": 1, "currency": "EUR"}},
        {"id": "always", "rate": {"amount": 2, "currency": "EUR"}}]}))
    offers = compile_rule_set(EligibilityRuleSet.model_validate({"id": "e", "kind": "eligibility", "rules": [
        {"id": "dated", "validFor": valid_for, "reason": {"code": "no", "label": "No"}, "when": raw_when}]}))
    holds_now = holds(parsed(raw_when), {**values_of(facts), "now": now})
    rated = decide(usage, facts, now).outcome["rule"]
    refused = decide(offers, facts, now).fired
    if not in_force:
        assert (rated, refused) == ("always", [])
    else:
        assert (rated, refused) == ("dated" if holds_now else "always", [] if holds_now else ["dated"])


# --- sanity of the generators --------------------------------------------------------------


@pytest.mark.parametrize("attribute, kind", sorted(ATTRIBUTES.items()))
def test_the_generated_conditions_reach_every_operator_of_every_attribute(attribute: str, kind: str) -> None:
    from bssrules.rules.conditions import OPERATORS_BY_TYPE

    seen: set[str] = set()

    # 1000: with numbers of up to 40 digits in the mix, plain numbers take a larger share of
    # the examples; at 300 an operator was missed about once in 15 runs, at 1000 the rarest
    # one still came 13 times or more (20 runs).
    @settings(max_examples=1000, deadline=None, database=None)
    @given(test=_tests(kind))
    def collect(test: Any) -> None:
        seen.update(test if isinstance(test, dict) else {"plain"})

    collect()
    expected = set(OPERATORS_BY_TYPE[kind]) | ({"plain"} if kind != "datetime" else set())
    assert seen >= expected


def test_the_shared_instants_straddle_the_change_to_summer_time_in_nicosia() -> None:
    nicosia = ZoneInfo("Europe/Nicosia")
    offsets = {i.astimezone(nicosia).utcoffset() for i in SHARED_INSTANTS[1:3]}
    assert offsets == {dt.timedelta(hours=2), dt.timedelta(hours=3)}
    assert all(_safe(n) for n in SHARED_NUMBERS) and not any(_safe(Decimal(v)) for v in ("0.00005", "1E+16"))
