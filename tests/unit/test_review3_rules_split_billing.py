"""A split billing rule on ``charge.type: {exists: true}`` assigns every typed charge: no
default payer is then needed (it was refused "no rule assigns every charge of type …")."""
from __future__ import annotations

from bssrules.rules.project import load_project_texts
from tests.unit.rules.conftest import RuleDiagnostics, load_rules, rule_diagnostics  # noqa: F401  (fixtures)

RULES = """\
ruleSets:
  - id: hotel
    kind: splitBilling
    rules:
WHEN
"""


def test_a_rule_on_every_charge_type_needs_no_default() -> None:
    project = load_project_texts({"rules.yaml": RULES.replace(
        "WHEN", "      - {id: a, when: {charge.type: {exists: true}}, payer: hotel}")})
    assert not [w for w in project.warnings if w.code == "noPayer"]


def test_a_rule_on_no_charge_type_still_needs_one(rule_diagnostics: RuleDiagnostics) -> None:
    found = rule_diagnostics(RULES.replace("WHEN", "      - {id: a, when: {charge.type: {exists: false}}, payer: hotel}"),
                             catalog=None)
    assert [d.code for d in found] == ["noPayer"]
    assert "recurring, oneTime, usage, outOfTariff" in found[0].message


def test_a_rule_on_one_type_after_a_rule_on_every_type_never_applies() -> None:
    project = load_project_texts({"rules.yaml": RULES.replace("WHEN", """\
      - {id: a, when: {charge.type: {exists: true}}, payer: hotel}
      - {id: b, when: {charge.type: recurring}, payer: guest}""")})
    assert [w.message for w in project.warnings if w.code == "shadowed"] == [
        "rule 'b' never applies: the earlier rule 'a' matches every case it matches"]
