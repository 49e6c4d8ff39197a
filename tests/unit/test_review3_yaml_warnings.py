"""While a rule set has errors, bssrules check holds back its warnings (they speak of what
the fixes may change) and says how many it held back; the warnings of the rule sets
without errors are shown as usual."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app

CATALOG = """\
productSpecifications:
  - {id: line, name: Line}
productOfferingPrices:
  - {id: monthly, name: Monthly, priceType: recurring, recurringPeriod: month, amount: 12.00, currency: EUR}
productOfferings:
  - {id: plan, name: Plan, productSpecification: line, prices: [monthly]}
"""

RULES = """\
ruleSets:
  - id: usage
    kind: usage
    rules:
      - id: data
        when: {usage.service: data}
        rate: {amount: 0.01, currency: EUR, per: MB}
      - id: data-again
        when: {usage.service: data}
        rate: {amount: 0.02, currency: EUR, per: MB}
  - id: welcome
    kind: discount
    rules:
      - id: half-off-setup
        target: {offering: plan, priceType: oneTime}
        percentage: 50
      - id: broken
        target: {offering: plan, priceType: recurring}
        percentage: 150x
"""


def test_the_warnings_of_a_rule_set_with_errors_are_held_back_and_counted(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(": ", 1)[1].split(" [at")[0] for line in lines[:-1]] == [
        "warning: rule 'data-again' never applies: the earlier rule 'data' matches every case it matches",
        "expected an exact decimal amount such as 12.50, got '150x'",
    ]
    assert lines[-1] == ("1 error, 1 warning (1 more warning of rule sets with errors, shown once their errors are fixed, "
                         "with what the analysis of their rules then finds)")


def test_once_the_errors_are_fixed_the_warnings_held_back_are_shown(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES.replace("150x", "15"), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert result.exit_code == 0
    assert "offering 'plan' has no oneTime price: discount 'half-off-setup' never alters a price" in result.stderr


def test_bssrules_test_holds_them_back_as_check_does(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    result = CliRunner().invoke(app, ["test", str(tmp_path)])
    assert result.exit_code == 1
    assert "never alters a price" not in result.stderr
    assert result.stderr.splitlines()[-1] == ("1 error, 1 warning (1 more warning of rule sets with errors, shown "
                                              "once their errors are fixed, with what the analysis of their rules "
                                              "then finds)")
