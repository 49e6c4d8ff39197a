"""A rule test of a split billing rule set can state the shares a rule splits a charge by
(`expect: {shares: {holder: 70, employer: 30}}`): compared role by role, weights by value; a
decision by one payer has none. `check` refuses shares written as something else."""
from __future__ import annotations

from bssrules.rules.testing import run_tests

from tests.unit.rules.conftest import LoadRules

RULES = """\
ruleSets:
  - id: family-split
    kind: splitBilling
    default: holder
    rules:
      - id: roaming-to-employer
        when: {charge.usageType: roaming}
        payer: employer
      - id: voice-shared
        when: {charge.service: voice}
        shares:
          - {payer: holder, weight: 70}
          - {payer: employer, weight: 30}
tests:
  - name: calls are shared
    ruleSet: family-split
    given: {charge: {type: usage, service: voice, amount: 0.05}}
    expect: {rule: voice-shared, shares: %s}
"""


def _results(load_rules: LoadRules, shares: str) -> list[tuple[bool, list[str]]]:
    project = load_rules(RULES % shares, catalog=None)
    return [(result.passed, result.problems) for result in run_tests(project.rules)]


def test_the_shares_of_the_rule_that_holds_are_expected_role_by_role(load_rules: LoadRules) -> None:
    assert _results(load_rules, "{employer: 30, holder: 70.0}") == [(True, [])]  # any order, weights by value


def test_other_shares_fail_saying_what_the_decision_had(load_rules: LoadRules) -> None:
    assert _results(load_rules, "{holder: 60, employer: 40}") == [
        (False, ["expected shares {holder: 60, employer: 40}, got {holder: 70, employer: 30}"])]
    assert _results(load_rules, "{holder: 70}") == [
        (False, ["expected shares {holder: 70}, got {holder: 70, employer: 30}"])]


def test_a_decision_by_one_payer_has_no_shares(load_rules: LoadRules) -> None:
    text = (RULES % "null").replace("service: voice, amount", "usageType: roaming, amount").replace(
        "rule: voice-shared", "rule: roaming-to-employer, payer: employer")
    project = load_rules(text, catalog=None)
    (result,) = run_tests(project.rules)
    assert result.passed, result.problems


def test_shares_written_otherwise_are_a_test_error_of_check(load_rules: LoadRules) -> None:
    for written in ("[holder, employer]", "{holder: seventy}", "{}"):
        found = load_rules(RULES % written, catalog=None).test_errors
        assert [(d.line, d.message.split(",")[0]) for d in found] == [
            (18, "expected a mapping of payer role to weight ({holder: 70")], written
