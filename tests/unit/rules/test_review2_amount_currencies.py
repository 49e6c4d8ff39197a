"""An accumulator of ``measure: amount`` adds up the charges of the records it counts; its
total and its thresholds' ``at`` have no currency, and nothing converts one currency into
another. ``check`` refuses one fed in several currencies — by the rules whose usage it may
count, or by a ``changeRate`` rate — at the accumulator, naming it and the currencies.

Before, such a rule set passed ``check`` and rating added euros and dollars into one total.
"""
from __future__ import annotations

import pytest

from bssrules.errors import Diagnostic


def errors(found: list[Diagnostic]) -> list[tuple[int, int, str]]:
    return [(d.line, d.column, d.message) for d in found if d.severity == "error"]


def usage(measure: str, roam: str = "USD", cheaper: str = "EUR", roam_when: str = "{usage.service: data, "
          "usage.roaming: true}", budget_when: str = "{usage.service: data}") -> str:
    return f"""\
ruleSets:
  - id: u
    kind: usage
    accumulators:
      - id: budget
        measure: {measure}
        when: {budget_when}
        thresholds:
          - {{id: cheaper, at: 5, action: changeRate, rate: {{amount: 1, currency: {cheaper}, per: MB}}}}
          - {{id: cap, at: 10, action: block, reason: {{code: capped, label: Capped}}}}
    rules:
      - id: roam
        when: {roam_when}
        rate: {{currency: {roam}, per: MB, amount: 1}}
      - id: home
        when: {{usage.service: data}}
        rate: {{currency: EUR, per: MB, amount: 1}}
"""


def test_an_amount_accumulator_fed_in_several_currencies_is_refused(rule_diagnostics) -> None:
    found = rule_diagnostics(usage("amount", roam="USD", cheaper="JPY"))
    assert errors(found) == [(5, 9, "accumulator 'budget' (measure: amount) would add up charges in different "
                                    "currencies (USD by rule 'roam'; EUR by rule 'home'; JPY by threshold 'cheaper'): "
                                    "its total and its thresholds' 'at' have no currency, and none is converted into "
                                    "another; keep one currency to an accumulator of measure: amount (an accumulator "
                                    "per currency, each counting the usage rated in it)")]


def test_a_change_rate_in_another_currency_alone_is_refused(rule_diagnostics) -> None:
    found = rule_diagnostics(usage("amount", roam="EUR", cheaper="USD"))
    assert len(errors(found)) == 1
    assert "USD by threshold 'cheaper'" in errors(found)[0][2] and "EUR by rule 'roam', rule 'home'" in errors(found)[0][2]


@pytest.mark.parametrize("text", [
    usage("amount", roam="EUR", cheaper="EUR"),  # one currency
    usage("volume", roam="USD", cheaper="JPY"),  # volumes: the currencies are not added up by a threshold
    # the USD rule rates only roaming usage, which the budget never counts
    usage("amount", roam="USD", roam_when="{usage.service: data, usage.roaming: true}",
          budget_when="{usage.service: data, usage.roaming: false}"),
])
def test_one_currency_per_amount_accumulator_passes(load_rules, text: str) -> None:
    project = load_rules(text)
    assert [r.id for r in project.rules] == ["u"]
    assert not [w for w in project.warnings if "currenc" in w.message]


PRICED = """\
ruleSets:
  - id: u
    kind: usage
    accumulators:
      - id: budget
        measure: amount
        thresholds: [{{id: cap, at: 10, action: block, reason: {{code: capped, label: Capped}}}}]
    rules:
      - id: base
        when: {{usage.service: ppv-movie}}
        rate: {{price: ppv-movie-base}}
      - id: other
        rate: {{currency: {currency}, per: movie, amount: 1}}
"""


def test_a_currency_taken_from_the_catalog_price_is_compared_too(rule_diagnostics) -> None:
    found = rule_diagnostics(PRICED.format(currency="USD"), "ppv")
    assert errors(found) == [(5, 9, "accumulator 'budget' (measure: amount) would add up charges in different "
                                    "currencies (EUR by rule 'base'; USD by rule 'other'): its total and its "
                                    "thresholds' 'at' have no currency, and none is converted into another; keep one "
                                    "currency to an accumulator of measure: amount (an accumulator per currency, each "
                                    "counting the usage rated in it)")]


def test_a_currency_taken_from_the_catalog_price_that_agrees_passes(load_rules) -> None:
    assert [r.id for r in load_rules(PRICED.format(currency="EUR"), "ppv").rules] == ["u"]
