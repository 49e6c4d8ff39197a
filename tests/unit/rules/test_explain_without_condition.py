"""``bssrules explain`` of a rule with no condition at all (no ``when``, no combination)
says it holds always, instead of an empty ``all`` with a value "seen" (issue 15, item 7:
``all (seen: None)``); a discount's combination is shown with what the basket held."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app

RULES = """\
ruleSets:
  - id: bundle-discounts
    kind: discount
    rules:
      - id: welcome
        target: {offering: plan, priceType: recurring}
        percentage: 10
      - id: pair
        combination: [plan, tablet]
        target: {offering: tablet, priceType: oneTime}
        percentage: 10
"""


def test_explain_says_a_rule_without_condition_holds_always(tmp_path: Path) -> None:
    (tmp_path / "project" / "rules").mkdir(parents=True)
    (tmp_path / "project" / "rules" / "discounts.yaml").write_text(RULES, encoding="utf-8")
    facts = tmp_path / "facts.yaml"
    facts.write_text("present: {productOfferings: [tablet]}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", str(tmp_path / "project"), str(facts), "-r", "bundle-discounts",
                                      "--as-of", "2026-06-01"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    welcome = lines.index(next(line for line in lines if line.endswith("fired welcome")))
    assert lines[welcome + 1].endswith("✓ always (no condition)"), lines
    assert "seen: None" not in result.stdout and "all (seen" not in result.stdout
    assert "✗ present.productOfferings containsAll [plan, tablet]  (seen: [tablet])" in result.stdout
