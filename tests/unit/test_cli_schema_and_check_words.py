"""``bssrules schema rule`` (meant: rules) said the schemas available but not which was meant;
``bssrules check`` said "1 offerings"."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_a_misspelt_schema_gets_a_did_you_mean() -> None:
    result = CliRunner().invoke(app, ["schema", "rule"])
    assert result.exit_code == 2
    assert "unknown schema 'rule'; available: catalog, rules (did you mean 'rules'?)" in result.output


def test_check_counts_one_offering_in_the_singular() -> None:
    result = CliRunner().invoke(app, ["check", str(ROOT / "examples" / "roaming")])
    assert result.exit_code == 0, result.output
    assert "catalog entities (1 offering, 4 prices)" in result.output
