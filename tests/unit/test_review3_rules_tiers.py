"""An error in one usage rule does not hide the tiers of another that count an unknown
accumulator (catalog-format.md: the references and tiers of the other rules are still
checked); an accumulator that is itself in error is not reported unknown."""
from __future__ import annotations

from tests.unit.rules.conftest import RuleDiagnostics, load_rules, rule_diagnostics  # noqa: F401  (fixtures)

RULES = """\
ruleSets:
  - id: mob
    kind: usage
    accumulators:
      - {id: month-data, measure: volume, period: ACCUMULATOR_PERIOD, when: {usage.service: data}}
    rules:
      - {id: d, when: {usage.service: data}, rate: {amount: 1, currency: EURO, per: GB}}
      - id: s
        when: {usage.service: sms}
        rate: {currency: EUR, per: message, tiersCount: {accumulator: TIERS_COUNT}, tiers: [{upTo: 1, amount: 2}, {amount: 1}]}
"""


def rules(period: str, counted: str) -> str:
    return RULES.replace("ACCUMULATOR_PERIOD", period).replace("TIERS_COUNT", counted)


def test_an_error_in_one_rule_hides_no_unknown_accumulator_of_another(rule_diagnostics: RuleDiagnostics) -> None:
    found = rule_diagnostics(rules("month", "month-dta"), catalog=None)
    assert [(d.line, d.message) for d in found] == [
        (7, "expected a currency code of three capital letters such as EUR, got 'EURO'"),
        (10, "unknown accumulator 'month-dta': the tiers count the period total of an accumulator of this rule set "
             "(it has: month-data) (did you mean 'month-data'?)")]


def test_tiers_counting_an_accumulator_in_error_are_not_reported_unknown(rule_diagnostics: RuleDiagnostics) -> None:
    found = rule_diagnostics(rules("mnth", "month-data"), catalog=None)
    assert [d.line for d in found] == [5, 7]
    assert not any("unknown accumulator" in d.message for d in found)


def test_tiers_counting_an_accumulator_of_another_measure_are_reported_beside_an_error(
        rule_diagnostics: RuleDiagnostics) -> None:
    found = rule_diagnostics(rules("month", "month-data").replace("measure: volume", "measure: amount"), catalog=None)
    assert [(d.line, d.message) for d in found][1:] == [
        (10, "accumulator 'month-data' has measure: amount; tiers count volume: name an accumulator of "
             "measure: volume")]
