"""``bssrules check`` on a project: a discount in a currency none of its targeted prices has
is an error at its currency (the rule would fire, its test pass, and the price never change);
a target price type the offering has no price of is a warning; a misspelt ``dayOfWeek`` day
is an error with the day meant."""
from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app

DEVICES = Path(__file__).resolve().parents[2] / "examples" / "devices"

DISCOUNTS = """\
ruleSets:
  - id: usd-offers
    kind: discount
    rules:
      - id: usd-off
        target: {offering: ipad-mini-deluxe, priceType: oneTime}
        amount: 50.00
        currency: USD
      - id: monthly-off
        target: {offering: ipad-mini-deluxe, priceType: recurring}
        percentage: 10
"""

WEEKEND = """\
ruleSets:
  - id: weekend
    kind: usage
    rules:
      - id: saturday-data
        when: {usage.service: data, usage.start: {dayOfWeek: [saturday]}}
        rate: {amount: 1, currency: EUR, per: GB}
"""


def _project(tmp_path: Path, name: str, text: str) -> Path:
    project = tmp_path / "devices"
    shutil.copytree(DEVICES, project)
    (project / "rules" / name).write_text(text, encoding="utf-8")
    return project


def test_a_discount_that_can_alter_no_price_is_found_by_check(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--no-cache", str(_project(tmp_path, "usd.yaml", DISCOUNTS))])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "usd.yaml" in line]
    errors = [line for line in lines if ": warning: " not in line]
    warnings = [line for line in lines if ": warning: " in line]
    assert any(line.startswith(f"{Path('rules') / 'usd.yaml'}:8:") or ":8:" in line for line in errors), result.output
    assert any("USD" in line for line in errors), result.output
    # the warning of its other rule (no recurring price) waits until the rule set has no error
    assert not warnings and "1 more warning of rule sets with errors" in result.output, result.output


def test_a_misspelt_day_is_named_with_the_day_meant(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--no-cache", str(_project(tmp_path, "weekend.yaml", WEEKEND))])
    assert result.exit_code == 1, result.output
    assert "(did you mean 'sat'?)" in result.output, result.output
