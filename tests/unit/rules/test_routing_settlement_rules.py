"""The two rule kinds of tickets and settlement: ``routing`` (the first rule that holds assigns
a ticket, else the default) and ``settlement`` (every rule that holds owes an amount, or a
percentage of a charge, from its payer to its payee), from their YAML to their decisions:

* model and schema errors, each at its ``file:line:column`` with the message written here;
* decisions: rule order, the default, validity, the basis a settlement rule needs;
* lint: a routing rule that an earlier one shadows (not a settlement rule: every rule counts),
  references to the catalog;
* rule tests written in YAML, run by :mod:`bssrules.rules.testing`, and the example's own;
* :func:`bssrules.services.tickets.route` across several routing rule sets.

Rules are loaded from texts with the fixtures of tests/unit/rules/conftest.py.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from bssrules.errors import InvalidInput
from bssrules.rules.decisions import decide, decide_many
from bssrules.rules.model import RoutingRuleSet, SettlementRuleSet
from bssrules.rules.testing import run_tests
from bssrules.services.tickets import route

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

ROUTING = """\
ruleSets:
  - id: tickets
    kind: routing
    default: csp
    rules:
      - id: critical-to-noc
        when: {ticket.severity: critical}
        assignTo: noc
      - id: sim-to-mvno-from-july
        when: {ticket.type: sim, ticket.channel: mvno-shop}
        assignTo: mvno
        validFor: {start: 2026-07-01}
      - id: sim-to-csp
        when: {ticket.type: {in: [sim, roaming]}}
        assignTo: csp
      - id: vehicle-to-car-maker
        when: {ticket.type: vehicle}
        assignTo: car-maker
"""

SETTLEMENT = """\
ruleSets:
  - id: pay
    kind: settlement
    rules:
      - id: per-ticket
        basis: ticket
        payer: car-maker
        payee: call-center
        amount: 2.50
        currency: EUR
      - id: connectivity-payback
        basis: ticket
        when: {ticket.type: connectivity}
        payer: csp
        payee: car-maker
        amount: 4
        currency: EUR
      - id: revenue-share
        basis: charge
        when: {charge.type: recurring, charge.offering: music-5gb}
        payer: car-maker
        payee: content-provider
        percentage: 12.5
      - id: penalty
        basis: slaViolation
        when: {metric.name: availability}
        payer: csp
        payee: car-maker
        amount: 100
        currency: USD
"""


def described(diagnostics: list[Any]) -> list[tuple[Any, ...]]:
    return [(d.file, d.line, d.column, d.message, d.path, d.code, d.severity) for d in diagnostics]


def settlement_rule(fields: str) -> str:
    return f"ruleSets:\n  - id: pay\n    kind: settlement\n    rules:\n      - {{id: r, {fields}}}\n"


def routing_rule_set(body: str) -> str:
    return f"ruleSets:\n  - id: route\n    kind: routing\n{body}"


RULE = ("ruleSets", 0, "rules", 0)


# ----------------------------------------------------------------------------- model and schema errors


@pytest.mark.parametrize("fields, column, message, path, code", [
    ("basis: charge, payer: a, payee: b, amount: 1, currency: EUR, percentage: 10", 9,
     "a settlement rule gives either an amount (with its currency) or a percentage", RULE, "invalid"),
    ("basis: charge, payer: a, payee: b", 9,
     "a settlement rule gives either an amount (with its currency) or a percentage", RULE, "invalid"),
    ("basis: ticket, payer: a, payee: b, amount: 1", 9, "an amount needs its currency", RULE, "invalid"),
    ("basis: ticket, payer: a, payee: b, percentage: 10", 9, "a percentage is a share of charges: basis charge",
     RULE, "invalid"),
    ("basis: slaViolation, payer: a, payee: b, percentage: 10", 9,
     "a percentage is a share of charges: basis charge", RULE, "invalid"),
    ("basis: ticket, payer: csp, payee: csp, amount: 1, currency: EUR", 9, "payer and payee are the same", RULE,
     "invalid"),
    ("basis: usage, payer: a, payee: b, amount: 1, currency: EUR", 24,
     "'usage' is not allowed here; expected one of: ticket, charge, slaViolation", RULE + ("basis",), "notAllowed"),
    ("basis: ticket, payer: a, payee: b, amount: 1, currency: euro", 73,
     "expected a currency code of three capital letters such as EUR, got 'euro'", RULE + ("currency",), "badFormat"),
    ("basis: ticket, payer: a, payee: b, amount: 0, currency: EUR", 60, "expected a number > 0, got 0",
     RULE + ("amount",), "invalid"),
    ("basis: charge, payer: a, payee: b, percentage: 100.5", 64, "expected a number ≤ 100, got 100.5",
     RULE + ("percentage",), "invalid"),
    ("basis: ticket, payee: b, amount: 1, currency: EUR", 9, "missing required field 'payer'", RULE, "missingField"),
], ids=["amount-and-percentage", "neither", "amount-without-currency", "percentage-of-tickets",
        "percentage-of-violations", "payer-is-payee", "unknown-basis", "bad-currency", "zero-amount",
        "over-100-percent", "no-payer"])
def test_a_malformed_settlement_rule_is_reported_where_it_is(rule_diagnostics, fields: str, column: int,
                                                            message: str, path: tuple, code: str) -> None:
    assert described(rule_diagnostics(settlement_rule(fields), catalog=None)) == [
        ("rules.yaml", 5, column, message, path, code, "error")]


def test_a_percentage_of_exactly_100_is_a_valid_share(load_rules) -> None:
    book = load_rules(settlement_rule("basis: charge, payer: a, payee: b, percentage: 100"), catalog=None).rules
    assert decide(book.in_force("pay", NOW), {"charge": {"type": "usage"}}, NOW).outcome == {
        "lines": [{"rule": "r", "payer": "a", "payee": "b", "percentage": Decimal("100")}]}


@pytest.mark.parametrize("body, expected", [
    ("    rules:\n      - {id: a, when: {ticket.type: sim}}\n",
     [(5, 9, "missing required field 'assignTo'", RULE, "missingField")]),
    ("    default: csp\n    rules: []\n",
     [(5, 5, "expected a non-empty list, got []", ("ruleSets", 0, "rules"), "invalid")]),
    ("    rules:\n      - {id: a, when: {ticket.type: sim}, assignto: csp}\n",
     [(5, 9, "missing required field 'assignTo'", RULE, "missingField"),
      (5, 43, "unknown field 'assignto'; expected one of: assignTo, description, id, validFor, when",
       RULE + ("assignto",), "unknownField")]),
    ("    rules:\n      - {id: a, when: {ticket.typ: sim}, assignTo: csp}\n",
     [(5, 24, "unknown attribute 'ticket.typ'", RULE + ("when", "ticket.typ"), "invalidRule")]),
    ("    rules:\n      - {id: a, when: {ticket.type: true}, assignTo: csp}\n",
     [(5, 37, "'ticket.type' compares with text, got true", RULE + ("when", "ticket.type"), "invalidRule")]),
    ("    rules:\n      - {id: a, when: {ticket.type: sim}, assignTo: csp}\n"
     "      - {id: a, when: {ticket.type: vehicle}, assignTo: car-maker}\n",
     [(6, 14, "duplicate rule id 'a' (first defined at line 5)", ("ruleSets", 0, "rules", 1, "id"),
       "duplicateId")]),
    ("    default: 'c sp'\n    rules:\n      - {id: a, assignTo: csp}\n",
     [(4, 14, "expected an id: a letter or digit, then letters, digits, '.', '_', ':' or '-'; got 'c sp'",
       ("ruleSets", 0, "default"), "badFormat")]),
], ids=["no-assignee", "no-rules", "misspelt-field", "unknown-attribute", "wrong-type", "duplicate-id",
        "bad-default"])
def test_a_malformed_routing_rule_set_is_reported_where_it_is(rule_diagnostics, body: str,
                                                              expected: list[tuple[Any, ...]]) -> None:
    found = rule_diagnostics(routing_rule_set(body), catalog=None)
    assert [(d.line, d.column, d.message, d.path, d.code) for d in found] == expected
    assert {d.severity for d in found} == {"error"}
    if "assignto" in body:
        assert found[1].suggestion == "assignTo"
    if "ticket.typ:" in body:
        assert found[0].suggestion == "ticket.type"


def test_the_rule_set_models_are_the_kinds_they_say() -> None:
    routing = RoutingRuleSet.model_validate({"id": "r", "kind": "routing", "rules": [
        {"id": "a", "assignTo": "csp"}]})
    assert (routing.default, routing.rules[0].assign_to, routing.rules[0].when) == (None, "csp", None)
    settlement = SettlementRuleSet.model_validate({"id": "s", "kind": "settlement", "rules": [
        {"id": "a", "basis": "charge", "payer": "x", "payee": "y", "percentage": "33.3"}]})
    assert (settlement.rules[0].percentage, settlement.rules[0].amount) == (Decimal("33.3"), None)


# ----------------------------------------------------------------------------- routing decisions


@pytest.fixture
def routing(load_rules):  # type: ignore[no-untyped-def]
    book = load_rules(ROUTING, catalog=None).rules
    return lambda facts, as_of=NOW: decide(book.in_force("tickets", as_of), facts, as_of)


@pytest.mark.parametrize("ticket, assignee, rule", [
    ({"type": "sim"}, "csp", "sim-to-csp"),
    ({"type": "roaming", "severity": "minor"}, "csp", "sim-to-csp"),
    ({"type": "vehicle"}, "car-maker", "vehicle-to-car-maker"),
    ({"type": "vehicle", "severity": "critical"}, "noc", "critical-to-noc"),  # the first rule in order wins
    ({"type": "billing"}, "csp", "default"),
    ({}, "csp", "default"),
    ({"type": "sim", "channel": "mvno-shop"}, "csp", "sim-to-csp"),  # not yet in force
])
def test_the_first_routing_rule_that_holds_assigns_else_the_default(routing, ticket: dict[str, Any],
                                                                   assignee: str, rule: str) -> None:
    decision = routing({"ticket": ticket})
    assert (decision.kind, decision.outcome) == ("routing", {"assignTo": assignee, "rule": rule})


def test_a_routing_decision_names_every_rule_that_held_and_explains_each(routing) -> None:
    decision = routing({"ticket": {"type": "sim", "severity": "critical", "channel": "mvno-shop"}})
    assert decision.fired == ["critical-to-noc", "sim-to-csp"]  # the July rule is not in force yet
    assert decision.to_dict(with_trace=False) == {"ruleSet": "tickets", "version": 1, "kind": "routing",
                                                  "assignTo": "noc", "rule": "critical-to-noc",
                                                  "fired": ["critical-to-noc", "sim-to-csp"]}
    trace = [(t["rule"], t["fired"], t.get("note")) for t in decision.to_dict()["explanation"]]
    assert trace == [("critical-to-noc", True, None),
                     ("sim-to-mvno-from-july", False, "not in force at this date (validFor)"),
                     ("sim-to-csp", True, None), ("vehicle-to-car-maker", False, None)]


def test_a_rule_that_comes_into_force_takes_its_place_in_the_order(routing) -> None:
    july = dt.datetime(2026, 7, 1, tzinfo=UTC)
    decision = routing({"ticket": {"type": "sim", "channel": "mvno-shop"}}, july)
    assert (decision.outcome, decision.fired) == ({"assignTo": "mvno", "rule": "sim-to-mvno-from-july"},
                                                  ["sim-to-mvno-from-july", "sim-to-csp"])
    assert routing({"ticket": {"type": "sim", "channel": "mvno-shop"}}, july - dt.timedelta(seconds=1)).outcome == {
        "assignTo": "csp", "rule": "sim-to-csp"}
    assert routing({"ticket": {"type": "sim", "channel": "shop"}}, july).outcome == {
        "assignTo": "csp", "rule": "sim-to-csp"}


def test_without_a_default_nothing_is_assigned(load_rules) -> None:
    book = load_rules(routing_rule_set("    rules:\n      - {id: a, when: {ticket.type: sim}, assignTo: csp}\n"),
                      catalog=None).rules
    assert decide(book.in_force("route", NOW), {"ticket": {"type": "vehicle"}}, NOW).outcome == {
        "assignTo": None, "rule": None}


@pytest.mark.parametrize("facts, message", [
    ({"ticket": {"colour": "red"}}, "unknown fact attribute: ticket.colour (did you mean 'ticket.channel'?)"),
    ({"ticket": {"priority": 3}}, "ticket.priority: expected text, got 3"),
])
def test_facts_a_routing_rule_set_cannot_read_are_refused(routing, facts: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        routing(facts)
    assert str(refused.value) == message


# ----------------------------------------------------------------------------- settlement decisions


@pytest.fixture
def settlement(load_rules):  # type: ignore[no-untyped-def]
    book = load_rules(SETTLEMENT, catalog=None).rules
    return book.in_force("pay", NOW)


@pytest.mark.parametrize("facts, lines", [
    ({"ticket": {"type": "connectivity", "originator": "call-center"}}, [
        {"rule": "per-ticket", "payer": "car-maker", "payee": "call-center", "amount": Decimal("2.50"),
         "currency": "EUR"},
        {"rule": "connectivity-payback", "payer": "csp", "payee": "car-maker", "amount": Decimal("4"),
         "currency": "EUR"}]),
    ({"ticket": {"type": "vehicle"}}, [
        {"rule": "per-ticket", "payer": "car-maker", "payee": "call-center", "amount": Decimal("2.50"),
         "currency": "EUR"}]),
    ({"ticket": {"severity": "major"}}, []),  # a ticket item always has a type: without one, no ticket basis
    ({"charge": {"type": "recurring", "offering": "music-5gb", "amount": Decimal("12.99"), "currency": "EUR"}}, [
        {"rule": "revenue-share", "payer": "car-maker", "payee": "content-provider", "percentage": Decimal("12.5")}]),
    ({"charge": {"type": "usage", "offering": "music-5gb", "amount": 1}}, []),
    ({"metric": {"name": "availability", "value": Decimal("97.9")}}, [
        {"rule": "penalty", "payer": "csp", "payee": "car-maker", "amount": Decimal("100"), "currency": "USD"}]),
    ({"metric": {"name": "latency", "value": 900}}, []),
    ({}, []),
], ids=["connectivity-ticket", "vehicle-ticket", "ticket-without-type", "music-charge", "usage-charge",
        "availability-breach", "other-breach", "nothing"])
def test_every_settlement_rule_that_holds_owes_its_line_in_rule_order(settlement, facts: dict[str, Any],
                                                                     lines: list[dict[str, Any]]) -> None:
    decision = decide(settlement, facts, NOW)
    assert (decision.kind, decision.outcome) == ("settlement", {"lines": lines})
    assert decision.fired == [line["rule"] for line in lines]


def test_a_rule_without_a_condition_counts_for_each_item_of_its_basis_only(settlement) -> None:
    items = [{"ticket": {"type": "sim"}}, {"charge": {"type": "recurring"}}, {"metric": {"name": "availability"}},
             {"ticket": {"type": "connectivity"}, "charge": {"type": "oneTime"}}]
    decisions = decide_many(settlement, items, NOW, with_trace=False)
    assert [d.fired for d in decisions] == [["per-ticket"], [], ["penalty"], ["per-ticket", "connectivity-payback"]]


def test_identical_settlement_rules_both_count_and_are_not_linted_as_shadowed(load_rules) -> None:
    text = ("ruleSets:\n  - id: pay\n    kind: settlement\n    rules:\n"
            "      - {id: a, basis: ticket, payer: x, payee: y, amount: 1, currency: EUR}\n"
            "      - {id: b, basis: ticket, payer: x, payee: y, amount: 2, currency: EUR}\n")
    project = load_rules(text, catalog=None)
    assert project.warnings == []
    assert decide(project.rules.in_force("pay", NOW), {"ticket": {"type": "sim"}}, NOW).fired == ["a", "b"]


def test_a_routing_rule_an_earlier_one_shadows_is_a_warning(load_rules) -> None:
    project = load_rules(routing_rule_set(
        "    rules:\n      - {id: sims, when: {ticket.type: {in: [sim, esim]}}, assignTo: csp}\n"
        "      - {id: esims, when: {ticket.type: esim, ticket.severity: major}, assignTo: car-maker}\n"), catalog=None)
    assert described(project.warnings) == [
        ("rules.yaml", 6, 9, "rule 'esims' never applies: the earlier rule 'sims' matches every case it matches",
         ("ruleSets", 0, "rules", 1), "shadowed", "warning")]


def test_a_settlement_rule_on_an_unknown_offering_is_an_error_beside_the_catalog(rule_diagnostics) -> None:
    text = settlement_rule("basis: charge, when: {charge.offering: music-5g}, payer: a, payee: b, percentage: 10")
    found = rule_diagnostics(text, catalog="connected_car")
    assert [(d.message, d.suggestion, d.code, d.path) for d in found] == [
        ("unknown productOffering 'music-5g'", "music-5gb", "unknownReference",
         RULE + ("when", "charge.offering"))]


def test_a_settlement_rule_on_an_unknown_category_is_an_error_beside_the_catalog(rule_diagnostics) -> None:
    text = settlement_rule("basis: charge, when: {charge.categories: {contains: convergd}}, payer: a, payee: b, "
                           "percentage: 10")
    found = rule_diagnostics(text, catalog="connected_car")
    assert [(d.message, d.suggestion, d.code) for d in found] == [
        ("unknown category 'convergd'", "converged", "unknownReference")]


# ----------------------------------------------------------------------------- rule tests in YAML


RULE_TESTS = """\
tests:
  - {name: a sim ticket, ruleSet: tickets, given: {ticket: {type: sim}}, expect: {assignTo: csp, rule: sim-to-csp}}
  - {name: wrong assignee, ruleSet: tickets, given: {ticket: {type: sim}}, expect: {assignTo: car-maker}}
  - {name: misnamed expectation, ruleSet: tickets, given: {ticket: {type: sim}}, expect: {assignee: csp}}
  - {name: nobody by default, ruleSet: tickets, given: {ticket: {type: x}}, expect: {rule: default}}
  - {name: in july, ruleSet: tickets, asOf: 2026-07-02, given: {ticket: {type: sim, channel: mvno-shop}},
     expect: {assignTo: mvno}}
  - {name: unknown fact, ruleSet: tickets, given: {ticket: {colour: red}}, expect: {assignTo: csp}}
  - {name: two lines, ruleSet: pay, given: {ticket: {type: connectivity}},
     expect: {rules: [connectivity-payback, per-ticket]}}
  - {name: one line missing, ruleSet: pay, given: {metric: {name: availability}},
     expect: {rules: [penalty, per-ticket]}}
  - {name: lines are not expected, ruleSet: pay, given: {ticket: {type: sim}}, expect: {lines: [per-ticket]}}
  - {name: nothing owed, ruleSet: pay, given: {charge: {type: usage}}, expect: {rules: []}}
"""


def test_rule_tests_of_both_kinds_run_from_yaml(load_rules) -> None:
    text = ROUTING + SETTLEMENT.replace("ruleSets:\n", "") + RULE_TESTS
    book = load_rules(text, catalog=None).rules
    results = run_tests(book)
    assert [(r.test.name, r.passed, r.problems) for r in results] == [
        ("a sim ticket", True, []),
        ("wrong assignee", False, ["expected assignTo car-maker, got csp"]),
        ("misnamed expectation", False, ["'assignee' cannot be expected of a routing decision "
                                         "(did you mean 'assignTo'?)"]),
        ("nobody by default", True, []),
        ("in july", True, []),
        ("unknown fact", False, ["could not decide: unknown fact attribute: ticket.colour "
                                 "(did you mean 'ticket.channel'?)"]),
        ("two lines", True, []),  # the order of the rules expected does not matter
        ("one line missing", False, ["expected rules [penalty, per-ticket], got [penalty]"]),
        ("lines are not expected", False, ["'lines' cannot be expected of a settlement decision "
                                           "(did you mean 'rules'?)"]),
        ("nothing owed", True, [])]
    first = text.splitlines().index("tests:") + 2  # 1-based line of the first test
    assert [(r.origin.file, r.origin.line) for r in results][:3] == [
        ("rules.yaml", first), ("rules.yaml", first + 1), ("rules.yaml", first + 2)]


def test_a_rule_test_of_an_unknown_rule_set_is_an_error(rule_diagnostics) -> None:
    found = rule_diagnostics(ROUTING + "tests:\n  - {name: t, ruleSet: ticket, given: {}, expect: {assignTo: csp}}\n",
                             catalog=None)
    assert [(d.message, d.suggestion, d.code) for d in found] == [
        ("unknown rule set 'ticket'", "tickets", "unknownReference")]


def test_the_routing_and_settlement_tests_of_the_connected_car_example_pass(example_project) -> None:
    results = [r for r in run_tests(example_project("connected_car").rules)
               if r.test.rule_set in ("ticket-routing", "connected-car-settlement", "call-center-sla")]
    assert sorted((r.test.rule_set, r.passed, tuple(r.problems)) for r in results) == [
        ("call-center-sla", True, ())] * 3 + [("connected-car-settlement", True, ())] * 5 + [
        ("ticket-routing", True, ())] * 3


# ----------------------------------------------------------------------------- routing across rule sets


def test_tickets_are_routed_by_the_first_routing_rule_set_by_id_that_assigns(load_rules) -> None:
    text = """\
ruleSets:
  - id: b-general
    kind: routing
    default: csp
    rules:
      - {id: vehicles, when: {ticket.type: vehicle}, assignTo: car-maker}
  - id: a-telematics
    kind: routing
    rules:
      - {id: telematics, when: {ticket.type: telematics}, assignTo: telematics-provider}
  - id: 0-future
    kind: routing
    validFor: {start: 2027-01-01}
    default: nobody
    rules:
      - {id: all, assignTo: nobody}
  - id: sla
    kind: sla
    rules:
      - {id: slow, metric: hours, when: {metric.value: {gt: 1}}}
"""
    runtime = SimpleNamespace(rules=load_rules(text, catalog=None).rules)
    assert route(runtime, {"ticket": {"type": "telematics"}}, NOW) == (
        "telematics-provider", "a-telematics", "telematics")
    assert route(runtime, {"ticket": {"type": "vehicle"}}, NOW) == ("car-maker", "b-general", "vehicles")
    assert route(runtime, {"ticket": {"type": "sim"}}, NOW) == ("csp", "b-general", "default")
    assert route(runtime, {"ticket": {"type": "sim"}}, dt.datetime(2027, 1, 2, tzinfo=UTC)) == (
        "nobody", "0-future", "all")
    without_default = SimpleNamespace(rules=load_rules(routing_rule_set(
        "    rules:\n      - {id: vehicles, when: {ticket.type: vehicle}, assignTo: car-maker}\n"), catalog=None).rules)
    assert route(without_default, {"ticket": {"type": "sim"}}, NOW) == (None, None, None)
