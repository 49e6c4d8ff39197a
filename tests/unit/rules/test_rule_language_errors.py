"""Broken rule files: every problem is reported at once, at its ``file:line:column``, with a
message a catalog manager can act on and a "did you mean" when something close exists.

Rules are loaded through :func:`bssrules.rules.project.load_project_texts` beside the devices
example catalog (``rules.yaml`` is the rules file), or from real folders in ``tmp_path``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bssrules.errors import Diagnostic, InvalidSource
from bssrules.rules.project import load_project
from bssrules.rules.conditions import parse_condition

ELIGIBILITY = """\
ruleSets:
  - id: vip-offers
    kind: eligibility
    rules:
      - id: vip-only
        reason: {{code: vipOnly, label: VIPs only}}
        when: {when}
"""


def described(d: Diagnostic) -> tuple[Any, ...]:
    return d.file, d.line, d.column, d.message, d.suggestion, d.path, d.code, d.severity


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    assert len(diagnostics) == 1, "\n".join(map(str, diagnostics))
    return diagnostics[0]


WHEN = ("ruleSets", 0, "rules", 0, "when")


# --- attributes --------------------------------------------------------------------------


def test_a_misspelt_attribute_is_an_error_that_suggests_the_attribute_it_looks_like(rule_diagnostics) -> None:
    found = only(rule_diagnostics(ELIGIBILITY.format(when="{party.clasification: VIP}")))
    assert (found.file, found.line, found.message, found.suggestion, found.path, found.code, found.severity) == (
        "rules.yaml", 7, "unknown attribute 'party.clasification'", "party.classification",
        WHEN + ("party.clasification",), "invalidRule", "error")
    assert str(found).startswith("rules.yaml:7:")
    assert "unknown attribute 'party.clasification' (did you mean 'party.classification'?)" in str(found)


@pytest.mark.parametrize("when, name_position", [
    ("{party.clasification: VIP}", (7, 16)),
    ("{party.age: {gtee: 18}}", (7, 28)),
], ids=["attribute", "operator"])
def test_a_misspelt_name_is_reported_at_the_name_not_at_its_value(rule_diagnostics, when: str,
                                                        name_position: tuple[int, int]) -> None:
    found = only(rule_diagnostics(ELIGIBILITY.format(when=when)))
    assert (found.line, found.column) == name_position


def test_parse_condition_reports_an_unknown_attribute_through_a_reporter_of_the_documented_signature() -> None:
    problems: list = []
    condition = parse_condition({"party.clasification": "VIP"}, ("when",),
                                lambda path, message, suggestion: problems.append((path, message, suggestion)))
    assert condition is None
    assert problems == [(("when", "party.clasification"), "unknown attribute 'party.clasification'",
                         "party.classification")]


def test_a_misspelt_attribute_with_a_mapping_of_tests_is_reported_at_the_attribute(rule_diagnostics) -> None:
    found = only(rule_diagnostics(ELIGIBILITY.format(when="\n          party.clasification:\n            in: [VIP]")))
    assert (found.line, found.column, found.suggestion) == (8, 11, "party.classification")


def test_an_attribute_that_is_no_combinator_nor_close_to_one_has_no_suggestion(rule_diagnostics) -> None:
    found = only(rule_diagnostics(ELIGIBILITY.format(when="{zzz: 1}")))
    assert found.message == "unknown attribute 'zzz'" and found.suggestion is None


def test_a_misspelt_combinator_suggests_the_combinator(rule_diagnostics) -> None:
    found = only(rule_diagnostics(ELIGIBILITY.format(when="{alll: [{party.type: individual}]}")))
    assert (found.message, found.suggestion) == ("unknown attribute 'alll'", "all")


# --- operators ---------------------------------------------------------------------------


def test_an_operator_that_does_not_apply_to_the_type_names_the_ones_that_do(rule_diagnostics) -> None:
    found = only(rule_diagnostics(ELIGIBILITY.format(when="{party.age: {contains: 3}}")))
    assert (found.file, found.line, found.message, found.suggestion, found.path, found.code, found.severity) == (
        "rules.yaml", 7,
        "'contains' is not a test for number attribute 'party.age'; "
        "use one of: eq, ne, lt, lte, gt, gte, in, notIn, between, exists",
        None, WHEN + ("party.age", "contains"), "invalidRule", "error")


@pytest.mark.parametrize("when, message, suggestion", [
    ("{party.age: {gtee: 18}}",
     "'gtee' is not a test for number attribute 'party.age'; use one of: eq, ne, lt, lte, gt, gte, in, notIn, "
     "between, exists", "gte"),
    ("{inventory.activeOfferings: {contain: ppv-service}}",
     "'contain' is not a test for list attribute 'inventory.activeOfferings'; use one of: contains, notContains, "
     "containsAny, containsAll, exists", "contains"),
    ("{party.classification: {notin: [VIP]}}",
     "'notin' is not a test for string attribute 'party.classification'; use one of: eq, ne, in, notIn, exists",
     "notIn"),
    ("{usage.start: {timeofday: {from: '00:01', to: '06:59'}}}",
     "'timeofday' is not a test for datetime attribute 'usage.start'; use one of: lt, lte, gt, gte, between, "
     "timeOfDay, dayOfWeek, exists", "timeOfDay"),
], ids=["number", "list", "string", "datetime"])
def test_a_misspelt_operator_suggests_the_operator_of_that_type_it_looks_like(
        rule_diagnostics, when: str, message: str, suggestion: str) -> None:
    found = only(rule_diagnostics(ELIGIBILITY.format(when=when)))
    assert (found.line, found.message, found.suggestion, found.code) == (7, message, suggestion, "invalidRule")


def test_an_attribute_given_an_empty_mapping_of_tests_is_an_error(rule_diagnostics) -> None:
    found = only(rule_diagnostics(ELIGIBILITY.format(when="{party.age: {}}")))
    assert (found.message, found.path) == ("no test given for 'party.age'", WHEN + ("party.age",))


# --- values ------------------------------------------------------------------------------


def column_of(text: str, line: int, token: str) -> int:
    """The 1-based column where ``token`` first starts on a line of ``text``."""
    return text.splitlines()[line - 1].index(token) + 1


# A scalar is positioned at its value; a list or a mapping at its key.
@pytest.mark.parametrize("when, at, message, path", [
    ("{party.age: abc}", "abc", "'party.age' is a number, got 'abc'", ("party.age",)),
    ("{party.age: {gte: true}}", "true", "'party.age' is a number, got true", ("party.age", "gte")),
    ("{usage.roaming: 'yes'}", "'yes'", "'usage.roaming' is true or false, got 'yes'", ("usage.roaming",)),
    ("{party.type: [a, b]}", "party.type", "'party.type' compares with text, got a list", ("party.type",)),
    ("{channel.id: {in: [shop, {x: 1}]}}", "in:", "'channel.id' compares with text, got a mapping",
     ("channel.id", "in")),
    ("{usage.start: {gt: tomorrow}}", "tomorrow",
     "'tomorrow' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ)", ("usage.start", "gt")),
    ("{party.age: {between: [65, 18]}}", "between", "'between' needs low ≤ high, got [65, 18]",
     ("party.age", "between")),
    ("{party.age: {between: [18]}}", "between", "'between' takes [low, high] (both included)",
     ("party.age", "between")),
    ("{channel.id: {in: []}}", "in:", "'in' takes a non-empty list", ("channel.id", "in")),
    ("{channel.id: {notIn: [shop, shop]}}", "notIn", "'notIn' lists the value 'shop' more than once", ("channel.id", "notIn")),
    ("{usage.start: {dayOfWeek: [mon, funday]}}", "dayOfWeek",
     "dayOfWeek takes days among mon, tue, wed, thu, fri, sat, sun; got funday", ("usage.start", "dayOfWeek")),
    ("{party.age: {exists: 1}}", "1}", "'exists' takes true or false", ("party.age", "exists")),
], ids=["number-text", "number-bool", "boolean-text", "string-list", "string-mapping", "datetime-text",
        "between-reversed", "between-one", "in-empty", "notIn-repeated", "dayOfWeek", "exists"])
def test_a_value_of_the_wrong_type_is_an_error_at_the_value(rule_diagnostics, when: str, at: str,
                                                            message: str, path: tuple) -> None:
    text = ELIGIBILITY.format(when=when)
    found = only(rule_diagnostics(text))
    assert described(found) == ("rules.yaml", 7, column_of(text, 7, at), message, None, WHEN + path,
                                "invalidRule", "error")


@pytest.mark.parametrize("window, at, message", [
    ('{from: "25:00", to: "06:00"}', "timeOfDay",
     "timeOfDay from '25:00' is not a time of day: write it \"HH:MM\", from 00:00 to 23:59"),
    ('{from: "00:01", to: "7.30"}', "timeOfDay",
     "timeOfDay to '7.30' is not a time of day: write it \"HH:MM\", from 00:00 to 23:59"),
    ('{from: "00:60", to: "06:59"}', "timeOfDay",
     "timeOfDay from '00:60' is not a time of day: write it \"HH:MM\", from 00:00 to 23:59"),
    ('{from: "00:01"}', "timeOfDay", "'timeOfDay' takes {from: \"HH:MM\", to: \"HH:MM\"} (both minutes included)"),
    ('"00:01-06:59"', '"00:01', "'timeOfDay' takes {from: \"HH:MM\", to: \"HH:MM\"} (both minutes included)"),
], ids=["hour-25", "dot", "minute-60", "no-to", "text"])
def test_a_bad_time_of_day_is_an_error_at_the_window(load_rules, window: str, at: str, message: str) -> None:
    text = f"""\
ruleSets:
  - id: ppv
    kind: usage
    rules:
      - id: night
        when: {{usage.start: {{timeOfDay: {window}}}}}
        rate: {{amount: 2.50, currency: EUR, per: movie}}
"""
    with pytest.raises(InvalidSource) as caught:
        load_rules(text, None)
    found = only(caught.value.diagnostics)
    assert described(found) == ("rules.yaml", 6, column_of(text, 6, at), message, None,
                                ("ruleSets", 0, "rules", 0, "when", "usage.start", "timeOfDay"), "invalidRule", "error")


def test_a_well_formed_time_of_day_with_an_unpadded_hour_is_accepted(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - id: ppv
    kind: usage
    rules:
      - id: night
        when: {usage.start: {timeOfDay: {from: "0:01", to: "6:59"}}}
        rate: {amount: 2.50, currency: EUR, per: movie}
""", None)
    assert [r.id for r in project.rules] == ["ppv"]


def test_an_unknown_time_zone_is_an_error_at_the_zone(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: ppv
    kind: usage
    timeZone: Europe/Nicosa
    rules:
      - id: base
        rate: {amount: 4.00, currency: EUR, per: movie}
"""
    found = only(rule_diagnostics(text, None))
    assert described(found) == (
        "rules.yaml", 4, 15, "unknown time zone 'Europe/Nicosa'", "Europe/Nicosia",
        ("ruleSets", 0, "timeZone"), "invalidRule", "error")


def test_a_time_zone_that_is_a_path_outside_the_zone_database_is_an_error_not_a_crash(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: ppv
    kind: usage
    timeZone: ../../etc/passwd
    rules:
      - id: base
        rate: {amount: 4.00, currency: EUR, per: movie}
"""
    found = only(rule_diagnostics(text, None))
    assert (found.line, found.column, found.path) == (4, 15, ("ruleSets", 0, "timeZone"))
    assert found.message.startswith("unknown time zone '../../etc/passwd'")


# --- rule sets -----------------------------------------------------------------------------


def test_an_unknown_rule_set_kind_is_an_error_that_suggests_the_kind(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: offers
    kind: eligibilty
    rules:
      - {id: r, reason: {code: c, label: l}}
"""
    found, *rest = rule_diagnostics(text, None)
    assert described(found) == (
        "rules.yaml", 3, 11,
        "'eligibilty' is not allowed here; expected one of: eligibility, compatibility, usage, splitBilling, sla, discount, routing, settlement",
        "eligibility", ("ruleSets", 0, "kind"), "notAllowed", "error")
    # the rest is still checked, as the kind it is close to (an eligibility rule needs a condition)
    assert [(d.line, d.message) for d in rest] == [(5, "missing required field 'when'")]


def test_a_field_of_another_kind_is_reported_against_the_kind_of_its_rule_set(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: offers
    kind: eligibility
    rules:
      - id: r
        reason: {code: c, label: l}
        payer: driver
        when: {party.age: {lt: 18}}
"""
    found = only(rule_diagnostics(text, None))
    assert (found.line, found.column, found.path, found.code) == (
        7, 9, ("ruleSets", 0, "rules", 0, "payer"), "unknownField")
    assert found.message.startswith("unknown field 'payer'")


def test_every_problem_of_a_file_is_reported_at_once_in_file_order(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: offers
    kind: eligibility
    rules:
      - {id: a, reason: {code: c, label: l}, when: {party.clasification: VIP}}
      - {id: b, reason: {code: c, label: l}, when: {party.age: {gt: old}}}
  - id: ppv
    kind: usage
    timeZone: Mars/Olympus
    rules:
      - {id: base, rate: {amount: 1, currency: EUR}}
"""
    found = rule_diagnostics(text, None)
    assert [(d.line, d.code) for d in found] == [(5, "invalidRule"), (6, "invalidRule"), (9, "invalidRule")]


# --- references to the catalog -------------------------------------------------------------


def test_references_to_unknown_catalog_items_are_errors_with_the_id_they_look_like(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: device-offers
    kind: eligibility
    rules:
      - id: tablets
        offerings: [ipad-mini-st]
        categories: [devics]
        alternate: smartphon
        reason: {code: c, label: l}
        when:
          present.productSpecifications: {containsAny: [handst]}
          inventory.offerings: mobile-telephony-pla
  - id: sims
    kind: compatibility
    rules:
      - id: phone-sim
        type: required
        subject: {resourceSpecification: terminal-smartfone}
        target: {productSpecification: mobile-telephonie}
      - id: one-sim
        type: exactlyOne
        subject: {resourceSpecification: physical-sim-card}
        among: [sim-large, sim-smal]
"""
    found = [(d.line, d.column, d.message, d.suggestion, d.path, d.code) for d in rule_diagnostics(text)]
    rules0, rules1 = ("ruleSets", 0, "rules", 0), ("ruleSets", 1, "rules")
    # a single id is positioned at itself; the ids of a test's list at the test (a list is positioned at its key)
    expected = [
        (6, "ipad-mini-st", "productOffering", "ipad-mini-std", rules0 + ("offerings", 0)),
        (7, "devics", "category", "devices", rules0 + ("categories", 0)),
        (8, "smartphon", "productOffering", "smartphone", rules0 + ("alternate",)),
        (11, "containsAny", "productSpecification", "handset",
         rules0 + ("when", "present.productSpecifications", "containsAny")),
        (12, "mobile-telephony-pla", "productOffering", "mobile-telephony-plan",
         rules0 + ("when", "inventory.offerings")),
        (18, "terminal-smartfone", "resourceSpecification", "terminal-smartphone",
         rules1 + (0, "subject", "resourceSpecification")),
        (19, "mobile-telephonie", "productSpecification", "mobile-telephony",
         rules1 + (0, "target", "productSpecification")),
        (23, "sim-smal", "resourceSpecification", "sim-small", rules1 + (1, "among", 1)),
    ]
    wrong = {11: "handst"}
    assert found == [(line, column_of(text, line, at), f"unknown {kind} '{wrong.get(line, at)}'", suggestion, path,
                      "unknownReference") for line, at, kind, suggestion, path in expected]


def test_rules_without_a_catalog_are_not_checked_for_references(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - id: device-offers
    kind: eligibility
    rules:
      - {id: tablets, offerings: [ipad-mini-st], reason: {code: c, label: l}, when: {party.age: {lt: 18}}}
""", None)
    assert [r.id for r in project.rules] == ["device-offers"]


def test_an_exactly_one_rule_without_among_on_a_spec_with_no_children_is_an_error(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: sims
    kind: compatibility
    rules:
      - id: one-sim
        type: exactlyOne
        subject: {resourceSpecification: sim-large}
"""
    found = only(rule_diagnostics(text))
    assert (found.line, found.path, found.code) == (5, ("ruleSets", 0, "rules", 0, "among"), "invalidRule")
    assert found.message.startswith("exactlyOne needs at least two items")


# --- tests and ids -------------------------------------------------------------------------


def test_a_rule_test_naming_an_unknown_rule_set_suggests_the_rule_set_it_looks_like(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: device-offers
    kind: eligibility
    rules:
      - {id: tablets, offerings: [ipad-mini-std], reason: {code: c, label: l}, when: {party.age: {lt: 18}}}
tests:
  - name: a typo in the rule set
    ruleSet: device-offer
    expect: {qualified: true}
"""
    found = only(rule_diagnostics(text))
    assert described(found) == ("rules.yaml", 8, 14, "unknown rule set 'device-offer'", "device-offers",
                                ("tests", 0, "ruleSet"), "unknownReference", "error")


def test_a_rule_test_of_a_rule_set_that_failed_is_not_reported_a_second_time(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: device-offers
    kind: eligibility
    rules:
      - {id: tablets, offerings: [ipad-mini-std], reason: {code: c, label: l}, when: {party.clasification: VIP}}
tests:
  - name: the rule set is broken, not the test
    ruleSet: device-offers
    expect: {qualified: true}
"""
    found = only(rule_diagnostics(text))
    assert found.line == 5 and found.suggestion == "party.classification"


def test_a_rule_test_in_another_file_may_name_a_rule_set(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - id: device-offers
    kind: eligibility
    rules:
      - {id: tablets, offerings: [ipad-mini-std], reason: {code: c, label: l}, when: {party.age: {lt: 18}}}
""", **{"more.yaml": "tests:\n  - {name: t, ruleSet: device-offers, expect: {qualified: true}}\n"})
    assert [t.rule_set for t, _ in project.rules.tests] == ["device-offers"]


def test_a_repeated_rule_id_is_an_error_at_the_repeated_id_naming_the_first_use(rule_diagnostics) -> None:
    text = """\
ruleSets:
  - id: device-offers
    kind: eligibility
    rules:
      - {id: tablets, offerings: [ipad-mini-std], reason: {code: c, label: l}, when: {party.age: {lt: 18}}}
      - {id: phones, offerings: [smartphone], reason: {code: c, label: l}, when: {party.age: {lt: 16}}}
      - {id: tablets, offerings: [ipad-mini-deluxe], reason: {code: c, label: l}, when: {party.age: {lt: 21}}}
"""
    found = only(rule_diagnostics(text))
    assert described(found) == ("rules.yaml", 7, 14, "duplicate rule id 'tablets' (first defined at line 5)",
                                None, ("ruleSets", 0, "rules", 2, "id"), "duplicateId", "error")


def test_the_same_rule_id_in_two_rule_sets_is_no_error(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - {id: offers, kind: eligibility, rules: [{id: adults, reason: {code: c, label: l}, when: {party.age: {lt: 18}}}]}
  - {id: other-offers, kind: eligibility,
     rules: [{id: adults, reason: {code: c, label: l}, when: {party.age: {lt: 18}}}]}
""", None)
    assert sorted(r.id for r in project.rules) == ["offers", "other-offers"]


def test_the_same_rule_set_id_and_version_twice_is_an_error_naming_the_first(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project" / "rules").mkdir(parents=True)
    rule_set = "  - id: offers\n    kind: eligibility\n    version: 2\n    rules:\n" \
               "      - {id: r, reason: {code: c, label: l}, when: {party.age: {lt: 18}}}\n"
    (tmp_path / "project" / "rules" / "a.yaml").write_text("ruleSets:\n" + rule_set, encoding="utf-8")
    (tmp_path / "project" / "rules" / "b.yaml").write_text("# again\nruleSets:\n" + rule_set, encoding="utf-8")
    with pytest.raises(InvalidSource) as caught:
        load_project("project")
    found = only(caught.value.diagnostics)
    assert described(found) == (
        "project/rules/b.yaml", 5, 14, "rule set 'offers' version 2 is defined twice (first at project/rules/a.yaml:2)",
        None, ("ruleSets", 0, "version"), "duplicateId", "error")


def test_the_same_rule_set_id_with_another_version_is_not_a_duplicate(load_rules) -> None:
    project = load_rules("""\
ruleSets:
  - {id: offers, kind: eligibility, version: 1, validFor: {end: 2040-01-01},
     rules: [{id: r, reason: {code: c, label: l}, when: {party.age: {lt: 18}}}]}
  - {id: offers, kind: eligibility, version: 2, validFor: {start: 2040-01-01},
     rules: [{id: r, reason: {code: c, label: l}, when: {party.age: {lt: 18}}}]}
""", None)
    assert [c.definition.version for c in project.rules.versions["offers"]] == [1, 2]
    assert project.warnings == []


def test_a_condition_too_complex_for_the_engine_is_an_error_asking_to_split_the_rule(rule_diagnostics) -> None:
    # (a or b or c) and ... six times: 3^6 = 729 alternatives once expanded
    clauses = ", ".join("{any: [{party.age: %d}, {party.type: t%d}, {channel.id: c%d}]}" % (i, i, i) for i in range(6))
    text = f"""\
ruleSets:
  - id: ppv
    kind: usage
    rules:
      - id: complex
        rate: {{amount: 1, currency: EUR}}
        when: {{all: [{clauses}]}}
"""
    found = only(rule_diagnostics(text, None))
    assert (found.line, found.path, found.code) == (7, ("ruleSets", 0, "rules", 0, "when"), "invalidRule")
    assert found.message.startswith("condition too complex for the engine") and "split the rule" in found.message


def test_a_condition_just_within_the_branch_limit_is_accepted(load_rules) -> None:
    # 4^4 = 256 alternatives: the most the engine is given for one rule
    clauses = ", ".join("{party.age: {in: [%d, %d, %d, %d]}}" % (i, i + 10, i + 20, i + 30) for i in range(4))
    project = load_rules(f"""\
ruleSets:
  - id: ppv
    kind: usage
    rules:
      - id: complex
        rate: {{amount: 1, currency: EUR}}
        when: {{all: [{clauses}]}}
""", None)
    assert [r.id for r in project.rules] == ["ppv"]
