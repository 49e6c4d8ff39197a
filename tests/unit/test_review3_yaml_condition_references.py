"""A condition with an error still has its other tests checked against the catalog: the
unknown offering beside a misspelt attribute is said in the same run, not once the
attribute is fixed."""
from __future__ import annotations

import pytest

from bssrules.errors import InvalidSource
from bssrules.rules.project import load_project_texts

CATALOG = """\
productSpecifications:
  - {id: line, name: Line}
productOfferings:
  - {id: plan-3gb, name: Plan, productSpecification: line}
"""


def errors(rules: str) -> list[str]:
    with pytest.raises(InvalidSource) as caught:
        load_project_texts({"catalog.yaml": CATALOG, "rules.yaml": rules})
    return [f"{d.line}:{d.column}: {d.message}" for d in caught.value.diagnostics if d.severity == "error"]


def test_an_unknown_offering_beside_a_misspelt_attribute_is_said_in_the_same_run() -> None:
    rules = """\
ruleSets:
  - id: usage
    kind: usage
    rules:
      - id: data
        when: {all: [{offering.id: {in: [plan-3gbv, plan-3gb]}}, {usage.servce: data}]}
        rate: {amount: 0.01, currency: EUR, per: MB}
"""
    assert sorted(errors(rules)) == [
        "6:37: unknown productOffering 'plan-3gbv'",
        "6:67: unknown attribute 'usage.servce'",
    ]


def test_a_rule_set_aside_for_a_type_error_still_has_the_offerings_of_its_condition_checked() -> None:
    rules = """\
ruleSets:
  - id: elig
    kind: eligibility
    rules:
      - id: r2
        offerings: [plan-3gb]
        when: {offering.id: plan-3gbw, quantity: {gt: abc}}
        reason: {code: x, label: [y]}
"""
    assert sorted(errors(rules)) == [
        "7:29: unknown productOffering 'plan-3gbw'",
        "7:40: unknown attribute 'quantity'",
        "8:27: expected a string, got a list",
    ]


def test_a_rule_set_of_an_unknown_kind_still_has_the_offerings_of_a_condition_in_error_checked() -> None:
    rules = """\
ruleSets:
  - id: x
    kind: pricing
    rules:
      - id: p1
        when: {not: {offering.id: plan-3gbt}, quantity: 1}
"""
    assert [e for e in errors(rules) if "productOffering" in e] == ["6:35: unknown productOffering 'plan-3gbt'"]
