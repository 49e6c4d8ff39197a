"""The durable-rules limits (../shared/DURABLE_RULES.md), each with a test that the product
stays correct past it: 512 rules per engine rule set, 64 rules true at once, content
de-duplication of facts, batches in which a fact matches nothing, concurrent use, live
states and memory, background threads."""
from __future__ import annotations

import datetime as dt
import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from bssrules.rules import conditions
from bssrules.rules.compiled import compile_rule_set
from bssrules.rules.decisions import decide, decide_many
from bssrules.rules.engine import RuleEngine
from bssrules.rules.evaluate import holds
from bssrules.rules.model import EligibilityRuleSet, SlaRuleSet

ROOT = Path(__file__).resolve().parents[3]
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 6, 1, tzinfo=UTC)
ENGINE_RULES_PER_RULE_SET = 512
ENGINE_TRUE_AT_ONCE = 64


def resident_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def check(attribute: str, op: str, value: object) -> conditions.Test:
    """One test of one attribute (a condition of the engine)."""
    return conditions.Test(attribute, op, value)


def eligibility(rules: list[dict]) -> EligibilityRuleSet:
    return EligibilityRuleSet.model_validate({"id": "big", "kind": "eligibility", "rules": rules})


# --- 512 rules per engine rule set ----------------------------------------------------------


@pytest.fixture(scope="module")
def two_thousand_offers():  # type: ignore[no-untyped-def]
    """2,000 eligibility rules: offering o<i> needs an age of at least i % 100, and 40 rules
    for every offering (a customer, in the right country...) that do not share an equality."""
    rules = [{"id": f"age-{i}", "offerings": [f"o{i}"], "when": {"party.age": {"gte": i % 100}},
              "reason": {"code": f"tooYoung{i}", "label": "Too young"}} for i in range(1960)]
    rules += [{"id": f"country-{i}", "when": {"party.country": {"ne": f"X{i}"}},
               "reason": {"code": f"country{i}", "label": "Not in this country"}} for i in range(40)]
    return compile_rule_set(eligibility(rules))


def test_a_rule_set_of_two_thousand_rules_is_spread_over_engine_rule_sets_under_the_limit(two_thousand_offers) -> None:
    engine = two_thousand_offers.engine
    assert len(two_thousand_offers.rules) == 2000 and engine.branch_count >= 2000
    assert engine.chunk_count >= -(-engine.branch_count // (ENGINE_RULES_PER_RULE_SET - 1))


@pytest.mark.parametrize("offering", [0, 1, 47, 48, 399, 400, 511, 512, 513, 1023, 1024, 1500, 1959])
def test_a_rule_set_of_two_thousand_rules_decides_every_offering_correctly(two_thousand_offers, offering: int) -> None:
    minimum = offering % 100
    for age in sorted({0, max(minimum - 1, 0), minimum, minimum + 1, 120}):
        decision = decide(two_thousand_offers, {"party": {"age": age, "country": "CY"},
                                                "offering": {"id": f"o{offering}"}}, NOW)
        assert decision.fired == ([] if age >= minimum else [f"age-{offering}"]), (offering, age)
    in_x3 = decide(two_thousand_offers, {"party": {"age": 120, "country": "X3"},
                                         "offering": {"id": f"o{offering}"}}, NOW)
    assert in_x3.fired == ["country-3"]
    no_age = decide(two_thousand_offers, {"party": {"country": "CY"}, "offering": {"id": f"o{offering}"}}, NOW)
    assert no_age.fired == [f"age-{offering}"]  # an absent age satisfies no minimum, not even 0


def test_a_batch_over_two_thousand_rules_decides_each_fact_as_alone(two_thousand_offers) -> None:
    facts = [{"party": {"age": (7 * n) % 130, "country": "CY"}, "offering": {"id": f"o{(37 * n) % 1960}"}}
             for n in range(60)]
    batch = [d.fired for d in decide_many(two_thousand_offers, facts, NOW, with_trace=False)]
    assert batch == [decide(two_thousand_offers, f, NOW).fired for f in facts]
    assert batch == [[] if (7 * n) % 130 >= ((37 * n) % 1960) % 100 else [f"age-{(37 * n) % 1960}"]
                     for n in range(60)]


def test_two_thousand_rules_without_a_shared_equality_all_run() -> None:
    rules = [(f"r{i}", check("party.age", "gte", Decimal(i))) for i in range(2000)]
    engine = RuleEngine(rules)
    for age in (-1, 0, 63, 64, 65, 511, 512, 1999, 5000):
        assert engine.matching({"party.age": Decimal(age), "now": NOW}) == {f"r{i}" for i in range(min(age + 1, 2000))}


# --- 64 rules true at once ------------------------------------------------------------------


def test_two_hundred_eligibility_rules_failing_at_once_are_all_reported() -> None:
    rules = [{"id": f"rule-{i:03d}", "offerings": ["phone"], "when": {"party.age": {"gte": 100 + i}},
              "reason": {"code": f"c{i}", "label": "l"}} for i in range(200)]
    compiled = compile_rule_set(eligibility(rules))
    decision = decide(compiled, {"party": {"age": 30}, "offering": {"id": "phone"}}, NOW)
    assert decision.fired == [f"rule-{i:03d}" for i in range(200)]
    assert [r["code"] for r in decision.outcome["reasons"]] == [f"c{i}" for i in range(200)]
    older = decide(compiled, {"party": {"age": 250}, "offering": {"id": "phone"}}, NOW)
    assert older.fired == [f"rule-{i:03d}" for i in range(151, 200)]


def test_two_hundred_sla_thresholds_broken_at_once_are_all_reported() -> None:
    rule_set = SlaRuleSet.model_validate({"id": "latency", "kind": "sla", "rules": [
        {"id": f"above-{i}", "metric": "latency", "when": {"metric.value": {"gt": i}}} for i in range(200)]})
    compiled = compile_rule_set(rule_set)
    outcome = decide(compiled, {"metric": {"name": "latency", "value": 1000}}, NOW).outcome
    assert [v["rule"] for v in outcome["violations"]] == [f"above-{i}" for i in range(200)]
    assert decide(compiled, {"metric": {"name": "jitter", "value": 1000}}, NOW).outcome["violated"] is False


def test_one_rule_with_many_alternatives_true_at_once_is_reported_once() -> None:
    # (a1 or ... or a16) and (b1 or ... or b16): 256 alternatives, all true for one fact
    first = [check("party.age", "gte", Decimal(-i)) for i in range(16)]
    second = [check("party.type", "ne", f"t{i}") for i in range(16)]
    condition = conditions.All((conditions.Any_(tuple(first)), conditions.Any_(tuple(second))))
    engine = RuleEngine([("wide", condition), ("narrow", check("party.age", "eq", Decimal(5)))])
    assert engine.branch_count > ENGINE_TRUE_AT_ONCE
    assert engine.matching({"party.age": Decimal(5), "party.type": "x", "now": NOW}) == {"wide", "narrow"}


# --- content de-duplication -----------------------------------------------------------------


def test_identical_facts_evaluated_again_and_again_give_the_same_answer_every_time(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    facts = {"inventory": {"activeOfferings": ["ppv-service"]},
             "usage": {"service": "ppv-movie", "start": "2026-06-01T03:00:00Z"}}
    first = decide(compiled, facts, NOW).to_dict()
    assert first["rule"] == "night-rate"
    assert all(decide(compiled, facts, NOW).to_dict() == first for _ in range(500))


def test_a_batch_of_identical_facts_gives_each_the_same_answer(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    facts = {"inventory": {"activeOfferings": ["ppv-service"]},
             "usage": {"service": "ppv-movie", "start": "2026-06-01T03:00:00Z"}}
    for _ in range(20):
        decisions = decide_many(compiled, [facts] * 25, NOW)
        assert [d.outcome["rule"] for d in decisions] == ["night-rate"] * 25


def test_identical_facts_in_two_engines_do_not_see_each_other() -> None:
    values = {"party.type": "x", "now": NOW}
    first = RuleEngine([("a", check("party.type", "eq", "x"))])
    second = RuleEngine([("b", check("party.type", "eq", "x"))])
    for _ in range(50):
        assert (first.matching(values), second.matching(values)) == ({"a"}, {"b"})


# --- a fact that matches nothing ------------------------------------------------------------


def test_a_fact_that_matches_nothing_does_not_lose_the_matches_of_the_others_in_a_batch() -> None:
    engine = RuleEngine([(f"age-{i}", check("party.age", "eq", Decimal(i))) for i in range(1200)])
    assert engine.chunk_count >= 3
    ages = [5, -1, 1199, None, 600, 5, 100000, 0]
    facts = [{"now": NOW} | ({} if age is None else {"party.age": Decimal(age)}) for age in ages]
    assert engine.matching_many(facts) == [{f"age-{a}"} if a is not None and 0 <= a < 1200 else set() for a in ages]
    assert engine.matching_many([facts[1]]) == [set()]
    assert engine.matching_many([]) == []


def test_a_rule_set_whose_rules_never_hold_still_answers() -> None:
    engine = RuleEngine([("never", check("party.age", "lt", Decimal(0))),
                         ("also-never", check("party.type", "eq", "z"))])
    assert engine.matching_many([{"now": NOW}, {"party.age": Decimal(3), "now": NOW}]) == [set(), set()]
    assert RuleEngine([]).matching({"now": NOW}) == set()


# --- threads --------------------------------------------------------------------------------


def test_evaluations_from_eight_threads_give_the_same_results_as_sequential_ones(two_thousand_offers,
                                                                                 example_project) -> None:
    ppv = example_project("ppv").rules.in_force("ppv-normal", NOW)
    ppv_facts = [{"inventory": {"activeOfferings": ["ppv-service"] if n % 5 else []},
                  "usage": {"service": "ppv-movie", "start": f"2026-06-01T{n % 24:02d}:{n % 60:02d}:00Z"}}
                 for n in range(48)]
    offer_facts = [{"party": {"age": (11 * n) % 120}, "offering": {"id": f"o{(53 * n) % 1960}"}} for n in range(48)]
    expected_ppv = [decide(ppv, f, NOW).to_dict() for f in ppv_facts]
    expected_offers = [decide(two_thousand_offers, f, NOW).fired for f in offer_facts]
    same_facts = ppv_facts[3]  # every thread also decides the very same facts (content de-duplication)

    def work(worker: int) -> tuple[list, list, list]:
        ppv_seen, offers_seen, same_seen = [], [], []
        for round in range(6):
            order = list(range(48))[worker % 8::] + list(range(48))[:worker % 8]
            if round % 2:
                ppv_seen.append([d.to_dict() for d in decide_many(ppv, ppv_facts, NOW)])
            else:
                ppv_seen.append(sorted(((i, decide(ppv, ppv_facts[i], NOW).to_dict()) for i in order),
                                       key=lambda pair: pair[0]))
            offers_seen.append([d.fired for d in decide_many(two_thousand_offers, offer_facts, NOW, with_trace=False)])
            same_seen.append(decide(ppv, same_facts, NOW).to_dict())
        return ppv_seen, offers_seen, same_seen

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for ppv_seen, offers_seen, same_seen in results:
        for round, seen in enumerate(ppv_seen):
            assert (seen if round % 2 else [d for _, d in seen]) == expected_ppv
        assert offers_seen == [expected_offers] * 6
        assert same_seen == [expected_ppv[3]] * 6


def test_an_engine_shared_by_more_threads_than_its_pool_has_hosts_answers_them_all() -> None:
    engine = RuleEngine([(f"r{i}", check("party.age", "gte", Decimal(i))) for i in range(100)], pool_size=2)
    facts = [{"party.age": Decimal(age), "now": NOW} for age in range(-1, 120)]
    expected = [{f"r{i}" for i in range(100) if i <= age} for age in range(-1, 120)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: [engine.matching(f) for f in facts], range(8)))
    assert results == [expected] * 8


# --- memory and threads ---------------------------------------------------------------------


def test_memory_stays_flat_over_one_hundred_thousand_evaluations(example_project) -> None:
    compiled = example_project("ppv").rules.in_force("ppv-normal", NOW)
    start = dt.datetime(2026, 6, 1, tzinfo=UTC)

    def facts(n: int) -> dict:  # every evaluation distinct: another minute, another day
        return {"inventory": {"activeOfferings": ["ppv-service"]},
                "usage": {"service": "ppv-movie", "start": start + dt.timedelta(minutes=n)}}

    for n in range(5_000):  # warm-up: caches, pools, allocator arenas
        decide(compiled, facts(n), NOW, with_trace=False)
    gc.collect()
    before, started = resident_bytes(), time.perf_counter()
    night = 0
    for n in range(100_000):
        night += decide(compiled, facts(n), NOW, with_trace=False).outcome["rule"] == "night-rate"
    gc.collect()
    growth = resident_bytes() - before
    assert night == 100_000 // 1440 * 419 + sum(1 <= m % 1440 <= 419 for m in range(100_000 // 1440 * 1440, 100_000))
    assert growth < 30 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MB over 100,000 evaluations " \
                                f"({time.perf_counter() - started:.1f} s)"


def test_no_engine_thread_is_left_running_after_creating_many_engines(example_project) -> None:
    before = threading.active_count()
    engines = []
    for n in range(300):
        engine = RuleEngine([("a", check("party.age", "gte", Decimal(n))), ("b", check("party.type", "eq", f"t{n}"))])
        assert engine.matching({"party.age": Decimal(n), "party.type": f"t{n}", "now": NOW}) == {"a", "b"}
        engines.append(engine)
    for _ in range(5):
        project = example_project("connected_car")
        assert len(project.rules) == 6
    time.sleep(0.3)  # the stock engine host starts its timers after 0.1 s
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]


def test_dropping_engines_gives_their_memory_back() -> None:
    def one(n: int) -> None:
        engine = RuleEngine([("a", check("party.age", "gte", Decimal(n))), ("b", check("party.type", "eq", f"t{n}"))])
        assert engine.matching({"party.age": Decimal(n), "now": NOW}) == {"a"}

    for n in range(200):
        one(n)
    gc.collect()
    before = resident_bytes()
    for n in range(2_000):
        one(n)
    gc.collect()
    growth = resident_bytes() - before
    assert growth < 30 * 2**20, f"resident memory grew by {growth / 2**20:.1f} MB over 2,000 dropped engines"


# --- numbers that JSON writes with an exponent (5e-05, 1e+16) -------------------------------


@pytest.mark.parametrize("threshold", ["0.00005", "10000000000000000"])
def test_a_threshold_written_with_few_digits_far_from_one_compiles_and_decides(load_rules, threshold: str) -> None:
    book = load_rules(f"""\
ruleSets:
  - id: errors
    kind: sla
    rules:
      - {{id: too-many-errors, metric: errorRate, when: {{metric.value: {{gt: {threshold}}}}}}}
""", None).rules
    compiled = book.in_force("errors", NOW)
    high = Decimal(threshold) * 2
    assert decide(compiled, {"metric": {"name": "errorRate", "value": str(high)}}, NOW).fired == ["too-many-errors"]
    assert decide(compiled, {"metric": {"name": "errorRate", "value": "0"}}, NOW).fired == []


def run_isolated(code: str) -> subprocess.CompletedProcess:
    """Run Python code in a child process (the engine may crash it)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_a_fact_with_an_ordinary_number_is_decided_in_a_child_process() -> None:
    # the control for the test below: the child process itself works
    result = run_isolated("""
        import datetime as dt
        from decimal import Decimal
        from bssrules.rules.conditions import Test
        from bssrules.rules.engine import RuleEngine
        engine = RuleEngine([("small", Test("usage.volume", "lt", Decimal("4.35")))])
        now = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
        print(sorted(engine.matching({"usage.volume": Decimal("0.5"), "now": now})))
    """)
    assert (result.returncode, result.stdout) == (0, "['small']\n"), result.stderr[-2000:]


@pytest.mark.parametrize("volume", ["0.00005", "10000000000000000", "0.0000001"])
def test_a_fact_with_a_number_far_from_one_is_decided_without_crashing(volume: str) -> None:
    result = run_isolated(f"""
        import datetime as dt
        from decimal import Decimal
        from bssrules.rules.conditions import Test
        from bssrules.rules.engine import RuleEngine
        engine = RuleEngine([("small", Test("usage.volume", "lt", Decimal("4.35")))])
        now = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
        print(sorted(engine.matching({{"usage.volume": Decimal("{volume}"), "now": now}})))
    """)
    expected = "['small']\n" if Decimal(volume) < Decimal("4.35") else "[]\n"
    assert (result.returncode, result.stdout) == (0, expected), result.stderr[-2000:]


def test_numbers_that_encode_with_a_decimal_point_are_compared_exactly() -> None:
    values = ["0.0001", "0.00012", "1.5E-5", "9.99999999E-7", "123456789", "1.23456789E+20", "1.5E+16", "4.35",
              "4.349999999", "-0.0001", "0"]
    rules = [(f"{op} {v}", check("usage.volume", op, Decimal(v))) for v in values for op in ("lt", "eq", "gte")]
    engine = RuleEngine(rules)
    facts = [{"usage.volume": Decimal(v), "now": NOW} for v in values]
    assert engine.matching_many(facts) == [{key for key, condition in rules if holds(condition, f)} for f in facts]


# --- negated list tests per rule set ----------------------------------------------------------


@pytest.mark.parametrize("rules", [44, 60, 130])
def test_many_rules_that_a_list_holds_not_all_of_some_values_are_spread_over_engine_rule_sets(rules: int) -> None:
    # "VIP, and not holding all of three offerings": each rule a branch of three "$iall" tests;
    # the engine refuses a rule set of 130 of them (error 107), which MAX_TRUE alone packed
    # from 44 such rules (found by the property test of engine limits, a hypothesis example)
    condition = conditions.All((check("party.classification", "eq", "VIP"), conditions.Not(
        check("inventory.offerings", "containsAll", ("VIP", "", "a b")))))
    engine = RuleEngine([(f"r{i}", condition) for i in range(rules)])
    every = {f"r{i}" for i in range(rules)}
    for facts in ({"party.classification": "VIP", "inventory.offerings": ("VIP",)},
                  {"party.classification": "VIP", "inventory.offerings": ("VIP", "", "a b")},
                  {"party.classification": "basic", "inventory.offerings": ()}):
        expected = every if holds(condition, {**facts, "now": NOW}, UTC) else set()
        assert engine.matching({**facts, "now": NOW}) == expected
