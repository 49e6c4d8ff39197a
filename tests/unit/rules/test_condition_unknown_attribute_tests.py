"""Every error of a condition at once: a misspelt test under a misspelt attribute
(``{usage.servic: {eqq: data}}``) was said only once the attribute was fixed — one more run."""
from __future__ import annotations

from typing import Any

RULES = (
    "ruleSets:\n"
    "  - id: u\n"
    "    kind: usage\n"
    "    rules:\n"
    "      - id: data\n"
    "        when: {usage.servic: {eqq: data}, inventory.activeOffering: {contain: x, ne: y}}\n"
    "        rate: {amount: 1.00, currency: EUR, per: GB}\n")


def test_a_misspelt_test_under_a_misspelt_attribute_is_said_in_the_same_run(rule_diagnostics: Any) -> None:
    found = [(d.path[-1], d.message, d.suggestion) for d in rule_diagnostics(RULES, catalog=None)]
    assert ("usage.servic", "unknown attribute 'usage.servic'", "usage.service") in found
    assert ("inventory.activeOffering", "unknown attribute 'inventory.activeOffering'",
            "inventory.activeOfferings") in found
    eqq = [f for f in found if f[0] == "eqq"]
    contain = [f for f in found if f[0] == "contain"]
    assert len(eqq) == 1 and eqq[0][1].startswith("'eqq' is no test of any attribute") and eqq[0][2] == "eq"
    assert len(contain) == 1 and contain[0][2] == "contains"
    assert not [f for f in found if f[0] == "ne"]  # a test some attribute has: it waits for the attribute
