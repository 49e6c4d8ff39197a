"""Rule tests for what rating does (issue 15, item 6): a test of a usage rule set plays a
sequence of records and states each record's charge, status, reasons and threshold events and
the accumulator totals after; ``check`` holds those expectations to their keys and types. And
the explanation of a discount rule shows the combination it tested and what the basket held."""
from __future__ import annotations

import datetime as dt

from bssrules.rules.decisions import decide
from bssrules.rules.testing import run_tests

from tests.unit.rules.conftest import LoadRules, RuleDiagnostics

UTC = dt.timezone.utc

RULES = """\
ruleSets:
  - id: a-first-catalog
    kind: usage
    rules:
      - id: everything-free
        rate: {amount: 0, currency: EUR, per: MB}
  - id: mobile
    kind: usage
    timeZone: Europe/Paris
    accumulators:
      - id: budget
        measure: amount
        when: {usage.roaming: true}
        thresholds:
          - {id: warn, at: 8, action: notify}
          - id: stop
            at: 10
            action: block
            crossing: rateUpToCap
            reason: {code: budgetReached, label: The roaming budget is spent}
    rules:
      - id: roaming
        when: {usage.service: data, usage.roaming: true}
        rate: {amount: 2.00, currency: EUR, per: MB}
      - id: home
        when: {usage.service: data}
        rate: {amount: 0.01, currency: EUR, per: MB}
  - id: shared
    kind: splitBilling
    default: holder
    rules:
      - id: roaming-to-employer
        when: {charge.usageType: roaming}
        payer: employer
tests:
"""


def record(id: str, volume: str, hour: int, roaming: bool = True) -> str:
    return (f"      - {{id: {id}, service: data, unit: MB, volume: {volume}, roaming: {str(roaming).lower()}, "
            f"start: 2026-06-10T{hour:02d}:00:00Z}}\n")


def one_test(body: str, name: str = "played") -> str:
    return RULES + f"  - name: {name}\n    ruleSet: mobile\n" + body


PLAYED = one_test("""\
    accumulators:
      - {accumulator: budget, period: 2026-06, amount: 4.00, volume: 2}
    records:
""" + record("r1", "2", 8) + record("r2", "3", 9) + record("r3", "1", 10) + record("h1", "100", 11, roaming=False) + """\
    expect:
      records:
        r1: {status: rated, rule: roaming, charge: 4.00, ratedVolume: 2, events: [budget/warn], reasons: []}
        r2: {status: rated, charge: 2.00, ratedVolume: 1, refusedVolume: 2, reasons: [budgetReached], events: [budget/stop]}
        r3: {status: rejected, rule: roaming, reasons: [budgetReached], charge: 0}
        h1: {status: rated, rule: home, charge: 1.00, billed: 1.00}
      accumulators:
        - {accumulator: budget, period: 2026-06, amount: 10.00, volume: 5, reached: [warn, stop]}
""")


def test_a_test_plays_records_from_the_totals_given_and_checks_charges_events_and_totals(load_rules: LoadRules) -> None:
    project = load_rules(PLAYED, catalog=None)
    (result,) = run_tests(project.rules)
    assert result.passed, result.problems
    assert result.decision is None


def test_only_the_tested_rule_set_rates(load_rules: LoadRules) -> None:
    # 'a-first-catalog' comes first by id and would rate everything at 0 in the whole book
    project = load_rules(one_test("    records:\n" + record("h1", "100", 11, roaming=False)
                                  + "    expect: {records: {h1: {rule: home, charge: 1.00}}}\n"), catalog=None)
    (result,) = run_tests(project.rules)
    assert result.passed, result.problems


def test_what_differs_is_said_record_by_record_with_what_rating_gave(load_rules: LoadRules) -> None:
    project = load_rules(one_test("""\
    records:
""" + record("r1", "4.5", 8) + record("r2", "3", 9) + """\
    expect:
      records:
        r1: {charge: 9.00, events: []}
        r2: {status: rated, charge: 6.00}
      accumulators:
        - {accumulator: budget, period: 2026-06, amount: 15.00}
        - {accumulator: budget, period: 2026-07, amount: 0}
"""), catalog=None)
    (result,) = run_tests(project.rules)
    assert not result.passed
    assert result.problems == [
        "record r1: expected events [], got [budget/warn]",
        "  rating gave: rated by roaming, charge 9.00 EUR, events budget/warn",
        "record r2: expected charge 6.00, got 1.00",
        "  rating gave: rated by roaming, charge 1.00 EUR, 2.5 refused (budgetReached), events budget/stop",
        "accumulator budget 2026-06: expected amount 15.00, got 10.00",
        "accumulator budget 2026-07: expected a total, rating counted nothing there",
    ]


def test_the_subscriber_and_its_split_billing_decide_who_pays(load_rules: LoadRules) -> None:
    project = load_rules(one_test("""\
    subscriber: {payers: {holder: BA-H}, splitBilling: shared}
    records:
      - {id: r1, service: data, unit: MB, volume: 1, roaming: true, type: roaming, start: 2026-06-10T08:00:00Z}
      - {id: h1, service: data, unit: MB, volume: 100, start: 2026-06-10T09:00:00Z}
    expect:
      records:
        r1: {status: rejected, reasons: [noBillingAccount]}
        h1: {status: rated, billed: 1.00}
"""), catalog=None)
    (result,) = run_tests(project.rules)
    assert result.passed, result.problems


def test_check_holds_rating_expectations_to_their_keys_types_and_ids(load_rules: LoadRules) -> None:
    found = load_rules(one_test("""\
    accumulators:
      - {accumulator: budgt, period: 2026-06}
    records:
""" + record("r1", "1", 8) + """\
    expect:
      records:
        r2: {status: rated}
        r1: {status: rate, charges: 1, rule: roam, events: budget/warn, charge: lots}
      accumulators:
        - {accumulator: budgett, amount: 3}
        - 7
      totals: []
""") + """\
  - name: not a usage rule set
    ruleSet: shared
    records:
""" + record("r1", "1", 8) + "    expect: {}\n", catalog=None).test_errors
    assert [(d.line, d.message, d.suggestion) for d in found] == [
        (39, "rule set 'mobile' has no accumulator 'budgt'", "budget"),
        (44, "the test plays no record 'r2'", None),
        (45, "expected rated or rejected for 'status', got 'rate'", "rated"),
        (45, "'charges' cannot be expected of a rated record", "charge"),
        (45, "rule set 'mobile' has no rule 'roam'", "roaming"),
        (45, "expected a list of accumulator/threshold ids for 'events', got 'budget/warn'", None),
        (45, "expected a number for 'charge', got 'lots'", None),
        (47, "an accumulator total names its period", None),
        (47, "rule set 'mobile' has no accumulator 'budgett'", "budget"),
        (48, "expected an accumulator total (accumulator, period, volume, amount, reached), got 7", None),
        (49, "'totals' cannot be expected of a test that plays records; use one of: records, accumulators", None),
        (52, "only a usage rule set rates records; 'shared' is a splitBilling rule set", None),
    ]


def test_a_test_that_plays_records_has_no_given_facts_and_distinct_records(rule_diagnostics: RuleDiagnostics) -> None:
    found = rule_diagnostics(one_test("""\
    given: {usage: {service: data}}
    records:
""" + record("r1", "1", 8) + record("r1", "1", 9) + "    expect: {}\n") + """\
  - name: no records
    ruleSet: mobile
    records: []
    expect: {}
""", catalog=None)
    messages = [d.message for d in found]
    assert any("takes no given facts" in m for m in messages), messages
    assert any("at least one record" in m for m in messages), messages


def test_the_explanation_of_a_discount_shows_the_combination_and_what_the_basket_held(load_rules: LoadRules) -> None:
    project = load_rules("""\
ruleSets:
  - id: bundle
    kind: discount
    rules:
      - id: tablet-with-plan
        combination: [mobile-telephony-plan, ipad-mini-deluxe]
        target: {offering: ipad-mini-deluxe, priceType: oneTime}
        amount: 50.00
        currency: EUR
      - id: gold-tablet
        when: {party.classification: GOLD}
        combination: [ipad-mini-deluxe]
        target: {offering: ipad-mini-deluxe, priceType: oneTime}
        percentage: 10
""")
    compiled = project.rules.in_force("bundle", dt.datetime(2026, 6, 1, tzinfo=UTC))
    decision = decide(compiled, {"present": {"productOfferings": ["ipad-mini-deluxe"]}}, dt.datetime(2026, 6, 1, tzinfo=UTC))
    first, second = (t.explanation for t in decision.trace)
    assert first == {"condition": "present.productOfferings containsAll [mobile-telephony-plan, ipad-mini-deluxe]",
                     "result": False, "actual": ["ipad-mini-deluxe"]}
    assert second["condition"] == "all" and [p["condition"] for p in second["parts"]] == [
        "party.classification eq GOLD", "present.productOfferings containsAll [ipad-mini-deluxe]"]
    assert [p["result"] for p in second["parts"]] == [False, True]
