"""Decisions are exact for every number the API or the YAML accepts (issue 14, part 1).

The engine compares binary floats; the reference evaluator compares Decimals and datetimes
exactly. Both are checked against each other here on numbers up to the limits of what
reaches a decision:

- the API reads JSON numbers as exact decimals (:func:`bssrules.jsontext.loads`): an integer
  of up to 4,300 digits (Python's limit on integer text: a longer one is refused as
  malformed JSON), any other number with any count of digits and any exponent, within a
  body of 4 MiB (:mod:`bssrules.api.limits`) — and an SLA value may also be such a number
  written as a string;
- the YAML reads integers of up to 4,300 digits and every other number as an exact Decimal
  of any size (:mod:`bssrules.yaml_source`);
- instants run from year 1 to 9999 to the microsecond (:func:`bssrules.catalog.types.parse_instant`).

So the numbers drawn here have up to 60 random significant digits with exponents beyond
the float range on both sides (past 1e308, below the smallest subnormal), and the extremes
themselves: 4,300-digit integers, a million-digit number, 1e±999999999, the largest float
and the smallest subnormal written exactly, the midpoints between two floats (where
rounding ties). Constants and facts are drawn near the same anchors, so that they often
have the same float without being equal: there, and only there, a float comparison can be
wrong.
"""
from __future__ import annotations

import datetime as dt
import decimal
import math
import sys
from decimal import Decimal
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bssrules.rules.compile import TooComplex, to_dnf, to_nnf
from bssrules.rules.compiled import CompiledRuleSet, compile_rule_set
from bssrules.rules.conditions import Condition, parse_condition
from bssrules.rules.decisions import decide, decide_many, fact_values
from bssrules.rules.engine import RuleEngine
from bssrules.rules.evaluate import holds
from bssrules.rules.model import (
    CompatibilityRuleSet, DiscountRuleSet, EligibilityRuleSet, RoutingRuleSet, SettlementRuleSet, SlaRuleSet,
    SplitBillingRuleSet, UsageRuleSet,
)
from bssrules.rules.project import load_project_texts

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])
UTC = dt.timezone.utc
EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)

# --- the limits ----------------------------------------------------------------------------

INTEGER_DIGITS = sys.get_int_max_str_digits() or 4300  # longer integers are refused (JSON and YAML)
BIG_INTEGER = Decimal("9" * INTEGER_DIGITS)
MILLION_DIGITS = Decimal("1." + "3" * 999_999)  # has the float of 1.3333333333333333 and is not it
LARGEST = Decimal(sys.float_info.max)  # exactly, all 309 digits
SUBNORMAL = Decimal(5e-324)  # exactly, 751 significant digits
EXTREMES = [
    Decimal(0), Decimal("-0"), Decimal("100"), Decimal("99.9"), Decimal("1.3333333333333333"), MILLION_DIGITS,
    BIG_INTEGER, -BIG_INTEGER, Decimal("1E+999999999"), Decimal("-1E+999999999"), Decimal("1E-999999999"),
    Decimal("-1E-999999999"), LARGEST, -LARGEST, Decimal("1E+308"), Decimal("1E+309"), Decimal("1E+400"),
    SUBNORMAL, -SUBNORMAL, Decimal(sys.float_info.min), Decimal("1E-400"), Decimal(2 ** 53), Decimal(2 ** 63),
    Decimal(2 ** 64), Decimal("1E+16"), Decimal("1E+19"), Decimal("0.00005"),
]


def _number(mantissa: int, exponent: int) -> Decimal:
    return Decimal(f"{mantissa}E{exponent}")  # exact, however many digits (scaleb would round to 28)


WIDE = st.builds(_number, st.integers(-(10 ** 60), 10 ** 60), st.integers(-420, 420))
ORDINARY = st.builds(_number, st.integers(-(10 ** 9), 10 ** 9), st.integers(-6, 3))
ANCHORS = st.one_of(st.sampled_from(EXTREMES), WIDE, ORDINARY)


def _float_neighbours(anchor: Decimal) -> list[Decimal]:
    """The exact value of the anchor's float, of the floats either side, and the midpoints
    between them (where rounding ties)."""
    f = float(anchor)
    if math.isinf(f):
        f = math.copysign(sys.float_info.max, f)
    below, above = math.nextafter(f, -math.inf), math.nextafter(f, math.inf)
    out = [Decimal(f)]
    for other in (below, above):
        if math.isfinite(other):
            out += [Decimal(other), EXACT.divide(EXACT.add(Decimal(f), Decimal(other)), 2)]
    return out


@st.composite
def near(draw: st.DrawFn, anchors: list[Decimal]) -> Decimal:
    """A number near one of the anchors: itself, one unit of a far digit away from it (the
    16th to the 40th, or of its last digit), or one of its float neighbours."""
    anchor = draw(st.sampled_from(anchors))
    how = draw(st.integers(0, 5))
    if how == 0:
        return anchor
    if how in (1, 2):
        digit = draw(st.integers(15, 40))
        step = Decimal(f"{draw(st.sampled_from([-3, -1, 1, 2]))}E{anchor.adjusted() - digit}")
        return EXACT.add(anchor, step)
    if how == 3:
        last = anchor.as_tuple().exponent
        assert isinstance(last, int)
        return EXACT.add(anchor, Decimal(f"{draw(st.sampled_from([-1, 1]))}E{last}"))
    if how == 4:
        return draw(st.sampled_from(_float_neighbours(anchor)))
    return draw(ANCHORS)


# Instants: the ends of the calendar, where a float of epoch seconds no longer tells
# microseconds apart (from about 2242 on, and before about 1697), and ordinary ones.
FIRST, LAST = dt.datetime(1, 1, 1, tzinfo=UTC), dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
INSTANT_ANCHORS = st.one_of(
    st.sampled_from([FIRST, LAST, dt.datetime(2243, 1, 1, tzinfo=UTC), dt.datetime(5000, 6, 1, 12, tzinfo=UTC),
                     dt.datetime(2026, 6, 1, tzinfo=UTC)]),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
                 timezones=st.just(UTC)),
)


@st.composite
def near_instant(draw: st.DrawFn, anchors: list[dt.datetime]) -> dt.datetime:
    anchor = draw(st.sampled_from(anchors))
    shift = dt.timedelta(microseconds=draw(st.sampled_from([0, 0, -3, -1, 1, 2, 7])))
    try:
        return anchor + shift
    except OverflowError:  # past an end of the calendar
        return anchor


def _iso(instant: dt.datetime) -> str:
    return instant.isoformat(timespec="microseconds").replace("+00:00", "Z")


# --- conditions and facts --------------------------------------------------------------------

NUMBERS = ("party.age", "charge.amount", "metric.value", "usage.volume", "accumulated.amount")
INSTANTS = ("usage.start",)


@st.composite
def leaf(draw: st.DrawFn, numbers: list[Decimal], instants: list[dt.datetime]) -> dict[str, Any]:
    """One test of a number or an instant, with every operator of the condition language."""
    if draw(st.integers(0, 4)) == 0:
        attribute = INSTANTS[0]
        op = draw(st.sampled_from(["lt", "lte", "gt", "gte", "between", "exists", "timeOfDay", "dayOfWeek"]))
        if op == "between":
            low, high = sorted([draw(near_instant(instants)), draw(near_instant(instants))])
            return {attribute: {op: [_iso(low), _iso(high)]}}
        if op == "exists":
            return {attribute: {op: draw(st.booleans())}}
        if op == "timeOfDay":
            return {attribute: {op: {"from": "00:00", "to": draw(st.sampled_from(["06:59", "23:59"]))}}}
        if op == "dayOfWeek":
            return {attribute: {op: draw(st.sampled_from(["mon", "sun"]))}}
        return {attribute: {op: _iso(draw(near_instant(instants)))}}
    attribute = draw(st.sampled_from(NUMBERS))
    op = draw(st.sampled_from(["plain", "eq", "ne", "lt", "lte", "gt", "gte", "in", "notIn", "between", "exists"]))
    if op == "plain":
        return {attribute: draw(near(numbers))}
    if op in ("in", "notIn"):
        values = draw(st.lists(near(numbers), min_size=1, max_size=3, unique=True))
        return {attribute: {op: values}}
    if op == "between":
        return {attribute: {op: sorted([draw(near(numbers)), draw(near(numbers))])}}
    if op == "exists":
        return {attribute: {op: draw(st.booleans())}}
    return {attribute: {op: draw(near(numbers))}}


@st.composite
def raw_condition(draw: st.DrawFn, numbers: list[Decimal], instants: list[dt.datetime], depth: int = 2) -> Any:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(leaf(numbers, instants))
    combinator = draw(st.sampled_from(["all", "any", "not"]))
    if combinator == "not":
        return {"not": draw(raw_condition(numbers, instants, depth - 1))}
    return {combinator: draw(st.lists(raw_condition(numbers, instants, depth - 1), min_size=1, max_size=3))}


def parsed(raw: Any) -> Condition:
    problems: list[Any] = []
    condition = parse_condition(raw, (), lambda path, message, suggestion: problems.append((path, message)))
    assert not problems and condition is not None, (raw, problems)
    return condition


def compilable(raw: Any) -> bool:
    """Within the engine's branch limit, as it is and negated (eligibility rules fire when
    their condition does not hold)."""
    try:
        to_dnf(to_nnf(parsed(raw)))
        to_dnf(to_nnf(parsed(raw), negated=True))
    except TooComplex:
        return False
    return True


@st.composite
def nested_facts(draw: st.DrawFn, numbers: list[Decimal], instants: list[dt.datetime]) -> dict[str, Any]:
    """Facts as the API hands them over: numbers as Decimals (or as their text), instants as
    ISO text, each attribute present or absent."""
    facts: dict[str, Any] = {}
    for attribute in NUMBERS:
        if draw(st.integers(0, 4)):
            value = draw(near(numbers))
            group, name = attribute.split(".")
            facts.setdefault(group, {})[name] = str(value) if draw(st.booleans()) else value
    if draw(st.booleans()):
        facts.setdefault("usage", {})["start"] = _iso(draw(near_instant(instants)))
    return facts


@st.composite
def scenarios(draw: st.DrawFn, rules: int = 6) -> tuple[list[Any], list[dict[str, Any]], list[dt.datetime]]:
    """Raw conditions, facts and instants of "now", all drawn near the same anchors."""
    numbers = draw(st.lists(ANCHORS, min_size=1, max_size=4))
    instants = draw(st.lists(INSTANT_ANCHORS, min_size=1, max_size=3))
    conditions = draw(st.lists(raw_condition(numbers, instants).filter(compilable), min_size=1, max_size=rules))
    facts = draw(st.lists(nested_facts(numbers, instants), min_size=1, max_size=5))
    nows = [draw(near_instant(instants)) for _ in facts]
    return conditions, facts, nows


def _collide(scenario: tuple[list[Any], list[dict[str, Any]], list[dt.datetime]]) -> int:
    """How many (fact, constant) pairs of a scenario share a float without being equal."""
    conditions, facts, nows = scenario
    from bssrules.rules.conditions import tests_of
    from bssrules.rules.facts import engine_number

    count = 0
    for facts_, now in zip(facts, nows):
        values = fact_values(facts_, now)
        for raw in conditions:
            for test in tests_of(parsed(raw)):
                if test.attribute not in values or test.op in ("exists", "timeOfDay", "dayOfWeek"):
                    continue
                for constant in test.value if isinstance(test.value, tuple) else (test.value,):
                    actual = values[test.attribute]
                    count += engine_number(actual) == engine_number(constant) and actual != constant
    return count


# --- the engine against the exact evaluator ---------------------------------------------------


@SETTINGS
@given(scenario=scenarios())
def test_the_engine_holds_exactly_the_rules_the_exact_evaluator_holds(scenario: Any) -> None:
    conditions, facts, nows = scenario
    rules = [(f"r{i}", parsed(raw)) for i, raw in enumerate(conditions)]
    engine = RuleEngine(rules)
    values = [fact_values(f, now) for f, now in zip(facts, nows)]
    expected = [{key for key, condition in rules if holds(condition, v)} for v in values]
    assert engine.matching_many(values) == expected
    assert [engine.matching(v) for v in values] == expected


def test_the_generated_scenarios_make_facts_and_constants_collide_in_float_often() -> None:
    """The sanity of the generator: a float comparison would be wrong somewhere in a good
    share of the scenarios (else the test above proves little)."""
    seen: list[int] = []

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(scenario=scenarios())
    def collect(scenario: Any) -> None:
        seen.append(_collide(scenario))

    collect()
    assert sum(1 for c in seen if c) >= len(seen) // 5, seen


# --- every rule kind, through decide() and decide_many(), with and without an explanation --------

REASON = {"code": "no", "label": "No"}


def _valid_for(draw: st.DrawFn, instants: list[dt.datetime]) -> dict[str, str]:
    bounds = sorted({draw(near_instant(instants)) for _ in range(draw(st.integers(0, 2)))})
    if len(bounds) == 2:
        return {"start": _iso(bounds[0]), "end": _iso(bounds[1])}
    if len(bounds) == 1:
        return {draw(st.sampled_from(["start", "end"])): _iso(bounds[0])}
    return {}


KINDS: dict[str, Callable[[list[Any], list[dict[str, str]]], Any]] = {
    "eligibility": lambda whens, valid: EligibilityRuleSet.model_validate({"id": "k", "kind": "eligibility", "rules": [
        {"id": f"r{i}", "when": w, "validFor": v, "reason": REASON} for i, (w, v) in enumerate(zip(whens, valid))]}),
    "compatibility": lambda whens, valid: CompatibilityRuleSet.model_validate({
        "id": "k", "kind": "compatibility", "rules": [
            {"id": f"r{i}", "type": "forbidden", "subject": {"productOffering": "a"},
             "target": {"productOffering": "b"}, "when": w, "validFor": v}
            for i, (w, v) in enumerate(zip(whens, valid))]}),
    "usage": lambda whens, valid: UsageRuleSet.model_validate({
        "id": "k", "kind": "usage", "appliesTo": whens[0],
        "prerequisites": [{"id": "p", "when": whens[-1], "reason": REASON}],
        "accumulators": [{"id": "acc", "when": whens[len(whens) // 2]}],
        "rules": [{"id": f"r{i}", "when": w, "validFor": v, "rate": {"amount": 1, "currency": "EUR"}}
                  for i, (w, v) in enumerate(zip(whens, valid))]}),
    "splitBilling": lambda whens, valid: SplitBillingRuleSet.model_validate({
        "id": "k", "kind": "splitBilling", "default": "holder", "rules": [
            {"id": f"r{i}", "when": w, "validFor": v, "payer": f"p{i}"} for i, (w, v) in enumerate(zip(whens, valid))]}),
    "settlement": lambda whens, valid: SettlementRuleSet.model_validate({"id": "k", "kind": "settlement", "rules": [
        {"id": f"r{i}", "when": w, "validFor": v, "basis": "slaViolation", "payer": "x", "payee": "y",
         "amount": 1, "currency": "EUR"} for i, (w, v) in enumerate(zip(whens, valid))]}),
    "routing": lambda whens, valid: RoutingRuleSet.model_validate({"id": "k", "kind": "routing", "rules": [
        {"id": f"r{i}", "when": w, "validFor": v, "assignTo": f"t{i}"} for i, (w, v) in enumerate(zip(whens, valid))]}),
    "discount": lambda whens, valid: DiscountRuleSet.model_validate({"id": "k", "kind": "discount", "rules": [
        {"id": f"r{i}", "when": w, "validFor": v, "target": {"offering": "a"}, "percentage": 10}
        for i, (w, v) in enumerate(zip(whens, valid))]}),
    "sla": lambda whens, valid: SlaRuleSet.model_validate({"id": "k", "kind": "sla", "rules": [
        {"id": f"r{i}", "metric": "availability", "when": w, "validFor": v}
        for i, (w, v) in enumerate(zip(whens, valid))]}),
}


def expected_fired(compiled: CompiledRuleSet, values: dict[str, Any]) -> list[str]:
    """What fires, decided by the exact evaluator, in the rule set's order."""
    return [r.key for r in compiled.rules if holds(r.fires, values, compiled.zone)]


@settings(SETTINGS, max_examples=60)
@given(kind=st.sampled_from(sorted(KINDS)), scenario=scenarios(rules=4), data=st.data())
def test_every_kind_decides_exactly_with_and_without_an_explanation(kind: str, scenario: Any,
                                                                   data: st.DataObject) -> None:
    conditions, facts, nows = scenario
    instants = nows
    valid = [_valid_for(data.draw, instants) for _ in conditions]
    compiled = compile_rule_set(KINDS[kind](conditions, valid))
    # What each kind also needs to fire: a basket with both items, an SLA observation.
    facts = [{**f, "present": {"productOfferings": ["a", "b"]},
              "metric": {**f.get("metric", {}), "name": "availability"}} for f in facts]
    now = nows[0]  # decide_many takes one "as of" for all its fact sets
    values = [fact_values(f, now) for f in facts]
    expected = [expected_fired(compiled, v) for v in values]
    quiet = decide_many(compiled, facts, now, with_trace=False)
    explained = decide_many(compiled, facts, now, with_trace=True)  # raises if the engine disagreed
    briefly = decide_many(compiled, facts, now, with_trace=True, trace_fired_only=True)
    alone = [decide(compiled, f, now, with_trace=with_trace) for f in facts for with_trace in (False, True)]
    assert [d.fired for d in quiet] == expected
    assert [d.fired for d in explained] == expected
    assert [d.fired for d in briefly] == expected
    assert [d.fired for d in alone] == [e for e in expected for _ in (False, True)]
    assert [d.outcome for d in explained] == [d.outcome for d in quiet]
    for decision in explained:
        assert [t.fired for t in decision.trace] == [t.rule in decision.fired for t in decision.trace]


# --- the cases of the issue, and the YAML ------------------------------------------------------


def test_a_split_billing_rule_sends_an_amount_just_over_its_threshold_to_its_payer() -> None:
    compiled = compile_rule_set(SplitBillingRuleSet.model_validate({
        "id": "split", "kind": "splitBilling", "default": "holder",
        "rules": [{"id": "big", "when": {"charge.amount": {"gt": Decimal(100)}}, "payer": "company"}]}))
    now = dt.datetime(2026, 6, 1, tzinfo=UTC)
    for amount, payer in [("100.00000000000000001", "company"), ("100", "holder"), ("99.99999999999999999", "holder")]:
        for with_trace in (False, True):
            assert decide(compiled, {"charge": {"amount": Decimal(amount)}}, now, with_trace).outcome["payer"] == payer


@pytest.mark.parametrize("value, violated", [("99.89999999999999999", True), ("99.9", False),
                                             ("99.90000000000000001", False), ("99.899999999999999999999999", True)])
def test_an_sla_threshold_flags_a_value_just_under_it(value: str, violated: bool) -> None:
    compiled = compile_rule_set(SlaRuleSet.model_validate({"id": "sla", "kind": "sla", "rules": [
        {"id": "low", "metric": "availability", "when": {"metric.value": {"lt": Decimal("99.9")}}}]}))
    facts = {"metric": {"name": "availability", "value": Decimal(value)}}
    now = dt.datetime(2026, 6, 1, tzinfo=UTC)
    assert decide(compiled, facts, now, with_trace=False).outcome["violated"] is violated
    assert decide(compiled, facts, now, with_trace=True).outcome["violated"] is violated


YAML_RULES = """\
ruleSets:
  - id: thresholds
    kind: sla
    rules:
      - {id: over-100, metric: m, when: {metric.value: {gt: 100.00000000000000001}}}
      - {id: past-floats, metric: m, when: {metric.value: {gte: 1e400}}}
      - {id: huge-integer, metric: m, when: {metric.value: {eq: %s}}}
      - {id: tiny, metric: m, when: {metric.value: {between: [1e-400, 2e-400]}}}
      - {id: last-microsecond, metric: m, when: {metric.value: {exists: true}},
         validFor: {start: "9999-12-31T23:59:59.999999Z"}}
""" % ("9" * INTEGER_DIGITS)


@pytest.mark.parametrize("value, when, fired", [
    ("100.00000000000000001", "2026-06-01", []),
    ("100.00000000000000002", "2026-06-01", ["over-100"]),
    ("1e400", "2026-06-01", ["over-100", "past-floats"]),
    ("9.99999999999999999999e399", "2026-06-01", ["over-100"]),
    ("9" * INTEGER_DIGITS, "2026-06-01", ["over-100", "past-floats", "huge-integer"]),
    ("1" + "0" * (INTEGER_DIGITS - 1), "2026-06-01", ["over-100", "past-floats"]),
    ("1.5e-400", "2026-06-01", ["tiny"]),
    ("0", "2026-06-01", []),
    ("1", "9999-12-31T23:59:59.999998Z", []),
    ("1", "9999-12-31T23:59:59.999999Z", ["last-microsecond"]),
])
def test_the_yaml_reads_thresholds_exactly_and_decisions_keep_them(value: str, when: str, fired: list[str]) -> None:
    as_of = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    compiled = load_project_texts({"rules.yaml": YAML_RULES}).rules.in_force("thresholds", as_of)
    for facts in ({"metric": {"name": "m", "value": Decimal(value)}}, {"metric": {"name": "m", "value": value}}):
        for with_trace in (False, True):
            assert decide(compiled, facts, as_of, with_trace).fired == fired


@example(digits=4_190_000)  # about the largest number a 4 MiB body holds
@given(digits=st.integers(18, 200_000))
@settings(max_examples=10, deadline=None)
def test_a_number_of_any_length_is_decided_exactly(digits: int) -> None:
    threshold = Decimal("1.3333333333333333")  # the float of 1.333… (any length) is this number's
    longer = Decimal("1." + "3" * (digits - 1))
    engine = RuleEngine([("lt", parsed({"metric.value": {"lt": threshold}})),
                         ("gt", parsed({"metric.value": {"gt": threshold}})),
                         ("eq", parsed({"metric.value": threshold}))])
    now = dt.datetime(2026, 6, 1, tzinfo=UTC)
    assert float(longer) == float(threshold)
    assert engine.matching({"metric.value": longer, "now": now}) == {"gt"}
    assert engine.matching({"metric.value": threshold, "now": now}) == {"eq"}
