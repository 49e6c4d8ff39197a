"""Items of a rule set that are told apart by an id (accumulators, prerequisites, the
thresholds of an accumulator, the payer roles of shares) are each written once, and
thresholds are listed from the lowest to the highest: a repetition or a threshold out of
order is an error at that item, naming it, with where the first one (or the higher one
before it) is — as a repeated rule id is.

Before, a repeated accumulator id passed ``check`` and the first accumulator was never
counted (its block cap never enforced); a repeated prerequisite lost its reason; repeated
thresholds and roles were reported at their container, naming nothing.
"""
from __future__ import annotations

from bssrules.errors import Diagnostic


def shown(found: list[Diagnostic]) -> list[str]:
    return [str(d) for d in found]


def usage(accumulators: str = "", prerequisites: str = "") -> str:
    return ("ruleSets:\n"
            "  - id: u\n"
            "    kind: usage\n"
            + accumulators + prerequisites +
            "    rules:\n"
            "      - id: r\n"
            "        when: {usage.service: data}\n"
            "        rate: {currency: EUR, per: MB, amount: 1}\n")


def test_a_repeated_accumulator_id_is_an_error_at_the_repetition(rule_diagnostics) -> None:
    found = rule_diagnostics(usage(accumulators=(
        "    accumulators:\n"
        "      - id: acc\n"
        "        when: {usage.service: data}\n"
        "        thresholds:\n"
        "          - {id: cap, at: 10, action: block, reason: {code: capped, label: Capped}}\n"
        "      - id: acc\n"
        "        thresholds: [{id: t9, at: 5, action: notify}]\n")))
    assert shown(found) == [
        "rules.yaml:9:13: duplicate accumulator id 'acc' (first defined at line 5) "
        "[at $.ruleSets[0].accumulators[1].id]"]


def test_a_repeated_prerequisite_id_is_an_error_at_the_repetition(rule_diagnostics) -> None:
    found = rule_diagnostics(usage(prerequisites=(
        "    prerequisites:\n"
        "      - {id: p, when: {inventory.activeOfferings: {contains: ipad-mini-std}}, reason: {code: noPlan, label: b}}\n"
        "      - {id: p, when: {inventory.activeOfferings: {contains: smartphone}}, reason: {code: noTv, label: d}}\n")))
    assert shown(found) == [
        "rules.yaml:6:14: duplicate prerequisite id 'p' (first defined at line 5) "
        "[at $.ruleSets[0].prerequisites[1].id]"]


def test_repeated_and_unordered_thresholds_are_each_reported_at_the_threshold(rule_diagnostics) -> None:
    found = rule_diagnostics(usage(accumulators=(
        "    accumulators:\n"
        "      - id: budget\n"
        "        thresholds:\n"
        "          - {id: warn, at: 12, action: notify}\n"
        "          - {id: cap, at: 10, action: block, reason: {code: capped, label: Capped}}\n"
        "          - {id: cap2, at: 15, action: notify}\n"
        "          - {id: warn, at: 5, action: notify}\n")))
    assert shown(found) == [
        "rules.yaml:8:27: thresholds must be listed from the lowest to the highest: threshold 'cap' at 10 comes "
        "after threshold 'warn' at 12 (line 7) [at $.ruleSets[0].accumulators[0].thresholds[1].at]",
        "rules.yaml:10:18: duplicate threshold id 'warn' in accumulator 'budget' (first defined at line 7) "
        "[at $.ruleSets[0].accumulators[0].thresholds[3].id]",
        "rules.yaml:10:28: thresholds must be listed from the lowest to the highest: threshold 'warn' at 5 comes "
        "after threshold 'cap2' at 15 (line 9) [at $.ruleSets[0].accumulators[0].thresholds[3].at]"]


def test_equal_levels_are_in_order(load_rules) -> None:
    project = load_rules(usage(accumulators=(
        "    accumulators:\n"
        "      - id: budget\n"
        "        thresholds:\n"
        "          - {id: warn, at: 10, action: notify}\n"
        "          - {id: cap, at: 10, action: block, reason: {code: capped, label: Capped}}\n")))
    assert [r.id for r in project.rules] == ["u"]


def test_a_repeated_payer_role_in_shares_is_named_at_the_repetition(rule_diagnostics) -> None:
    found = rule_diagnostics(
        "ruleSets:\n"
        "  - id: s\n"
        "    kind: splitBilling\n"
        "    default: holder\n"
        "    rules:\n"
        "      - id: a\n"
        "        when: {charge.type: usage}\n"
        "        shares: [{payer: holder, weight: 70}, {payer: employer, weight: 20}, {payer: holder, weight: 10}]\n")
    assert shown(found) == [
        "rules.yaml:8:86: duplicate payer role 'holder' in shares (first defined at line 8) "
        "[at $.ruleSets[0].rules[0].shares[2].payer]"]


def test_the_first_of_a_repeated_id_counts_even_in_error(rule_diagnostics) -> None:
    found = rule_diagnostics(usage(accumulators=(
        "    accumulators:\n"
        "      - id: acc\n"
        "        measure: amont\n"
        "      - id: acc\n")))
    assert [(d.line, d.message) for d in found] == [
        (6, "'amont' is not allowed here; expected one of: volume, amount"),
        (7, "duplicate accumulator id 'acc' (first defined at line 5)")]


def test_a_level_in_error_is_not_also_out_of_order(rule_diagnostics) -> None:
    found = rule_diagnostics(usage(accumulators=(
        "    accumulators:\n"
        "      - id: budget\n"
        "        thresholds:\n"
        "          - {id: warn, at: 12, action: notify}\n"
        "          - {id: odd, at: -1, action: notify}\n")))
    assert [(d.line, d.message) for d in found] == [(8, "expected a number > 0, got -1")]
