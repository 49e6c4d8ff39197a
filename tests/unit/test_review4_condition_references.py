"""An accumulator or a prerequisite with an error still has the offerings its condition names
checked, in the same run (a catalog manager's review: they came one run later, once the other
error was fixed)."""
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
RULES = """\
ruleSets:
  - id: u
    kind: usage
    accumulators:
      - {id: a, measure: amount, when: {usage.offering: nope2}, thresholds: [{id: t, at: 5, action: notifi}]}
      - {id: b, measure: amount, when: {usage.offering: plan-3gbx}, thresholds: [{id: t, at: 5, action: notify}]}
    prerequisites:
      - {id: p2, when: {usage.offering: nope6}, reason: {code: a}}
    rules:
      - {id: r, when: {usage.offering: nope7}, rate: {amount: 1, currency: EUR, per: MB}}
"""


def _errors(rules: str) -> list[str]:
    with pytest.raises(InvalidSource) as caught:
        load_project_texts({"catalog.yaml": CATALOG, "rules.yaml": rules})
    return [f"{d.line}:{d.column}: {d.message}" for d in caught.value.diagnostics if d.severity == "error"]


def test_the_conditions_of_items_in_error_name_their_unknown_offerings_in_the_same_run() -> None:
    found = _errors(RULES)
    assert [e for e in found if "productOffering" in e] == [
        "5:57: unknown productOffering 'nope2'",
        "6:57: unknown productOffering 'plan-3gbx'",
        "8:41: unknown productOffering 'nope6'",
        "10:40: unknown productOffering 'nope7'"]
    assert len(found) == len(set(found))  # each said once
