"""Every error of one entry is reported in one run: an error in a rule, an accumulator or
a threshold no longer hides the independent errors beside it (an invalid date of the rule,
a negative amount of the rate, a negative ``at`` of the threshold), a rule set whose
``kind`` is misspelt still has its rules checked as the kind it is close to, and a rule set
that cannot be compiled still has its time zone checked.

Each case below reported only its first error before.
"""
from __future__ import annotations

from bssrules.errors import Diagnostic


def said(found: list[Diagnostic]) -> list[tuple[int, int, str]]:
    return [(d.line, d.column, d.message) for d in found]


def test_a_misspelt_kind_still_has_its_rules_checked_as_the_kind_it_is_close_to(rule_diagnostics) -> None:
    found = rule_diagnostics(
        "ruleSets:\n"
        "  - id: elig\n"
        "    kind: eligibilty\n"
        "    rules:\n"
        "      - id: r\n"
        "        offerngs: [smartphone]\n"
        "        when: {inventory.activeOffering: {contains: smartphone}}\n"
        "        reason: {code: noPlan, label: Needs the plan}\n"
        "        alternate: smartphon\n"
        "      - id: r\n"
        "        when: {party.age: {gte: 18}}\n"
        "        reason: {code: adults, label: Adults}\n")
    assert [(line, column) for line, column, _ in said(found)] == [(3, 11), (6, 9), (7, 16), (9, 20), (10, 13)]
    assert said(found)[1:] == [
        (6, 9, "unknown field 'offerngs'; expected one of: alternate, categories, description, id, offerings, "
               "reason, validFor, when"),
        (7, 16, "unknown attribute 'inventory.activeOffering'"),
        (9, 20, "unknown productOffering 'smartphon'"),
        (10, 13, "duplicate rule id 'r' (first defined at line 5)")]


def test_a_kind_close_to_none_still_has_its_conditions_and_ids_checked(rule_diagnostics) -> None:
    found = rule_diagnostics(
        "ruleSets:\n"
        "  - id: x\n"
        "    kind: whatever\n"
        "    rules:\n"
        "      - id: r\n"
        "        when: {party.clasification: VIP}\n"
        "      - id: r\n")
    assert said(found)[1:] == [(6, 16, "unknown attribute 'party.clasification'"),
                               (7, 13, "duplicate rule id 'r' (first defined at line 5)")]


def test_the_invalid_date_of_a_rule_with_another_error_is_reported(rule_diagnostics) -> None:
    found = rule_diagnostics(
        "ruleSets:\n"
        "  - id: u\n"
        "    kind: usage\n"
        "    rules:\n"
        "      - id: r\n"
        "        when: {usage.service: data}\n"
        "        rate: {currency: EURO, per: MB, amount: -1}\n"
        "        validFor: {start: 2026-13-01}\n"
        "  - id: c\n"
        "    kind: compatibility\n"
        "    rules:\n"
        "      - id: r1\n"
        "        type: requird\n"
        "        subject: {resourceSpecification: sim-small}\n"
        "        target: {resourceSpecification: sim-large}\n"
        "        validFor: {start: 2026-02-30}\n")
    assert [(line, message) for line, _, message in said(found)] == [
        (7, "expected a currency code of three capital letters such as EUR, got 'EURO'"),
        (7, "expected a number ≥ 0, got -1"),
        (8, "'2026-13-01' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ): there is no month 13"),
        (13, "'requird' is not allowed here; expected one of: required, forbidden, optional, exactlyOne"),
        (16, "'2026-02-30' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ): February 2026 has 28 days")]


def test_every_error_of_the_thresholds_of_an_accumulator_in_error_is_reported(rule_diagnostics) -> None:
    found = rule_diagnostics(
        "ruleSets:\n"
        "  - id: u\n"
        "    kind: usage\n"
        "    accumulators:\n"
        "      - id: acc\n"
        "        measure: amont\n"
        "        thresholds:\n"
        "          - {id: t1, at: -1, action: notfy}\n"
        "          - {id: t2, at: 10, action: block}\n"
        "    rules:\n"
        "      - id: r\n"
        "        when: {usage.service: data}\n"
        "        rate: {currency: EUR, per: MB, amount: 1}\n")
    assert said(found) == [
        (6, 18, "'amont' is not allowed here; expected one of: volume, amount"),
        (8, 26, "expected a number > 0, got -1"),
        (8, 38, "'notfy' is not allowed here; expected one of: notify, block, changeRate"),
        (9, 13, "a block threshold needs the reason given to the usage it blocks")]


def test_the_time_zone_of_a_rule_set_without_rules_is_checked(rule_diagnostics) -> None:
    found = rule_diagnostics(
        "ruleSets:\n"
        "  - id: b\n"
        "    kind: usage\n"
        "    timeZone: Europe/Pari\n"
        "    rules: []\n")
    assert [(line, message, d.suggestion) for (line, _, message), d in zip(said(found), found)] == [
        (4, "unknown time zone 'Europe/Pari'", "Europe/Paris"),
        (5, "expected a non-empty list, got []", None)]


def test_a_valid_project_says_nothing_more(example_project) -> None:
    for example in ("ppv", "devices", "roaming", "connected_car"):
        assert not [w for w in example_project(example).warnings if w.severity == "error"]


def test_every_problem_across_the_fields_of_an_item_is_said(rule_diagnostics) -> None:
    found = rule_diagnostics(
        "ruleSets:\n"
        "  - id: u\n"
        "    kind: usage\n"
        "    accumulators:\n"
        "      - id: acc\n"
        "        thresholds:\n"
        "          - {id: t, at: 5, action: notify, crossing: rateUpToCap, rate: {amount: 1, currency: EUR}}\n"
        "    rules:\n"
        "      - id: r\n"
        "        rate: {currency: EUR, per: MB, amount: 1}\n"
        "  - id: s\n"
        "    kind: settlement\n"
        "    rules:\n"
        "      - {id: fee, basis: ticket, payer: csp, payee: csp, amount: 1}\n", None)
    assert [(d.line, d.message) for d in found] == [
        (7, "only a changeRate threshold takes a rate; only a block threshold rates up to its cap "
            "(crossing: rateUpToCap)"),
        (14, "an amount needs its currency; payer and payee are the same")]
