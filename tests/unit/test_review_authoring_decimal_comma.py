"""A decimal comma in a flow mapping (``{amount: 1,50}``) is, to YAML, ``amount: 1`` and a key
``50``: the amount is silently 1 and the only error is an unknown field '50'. The error now
says what was meant: ``amount: 1.50``."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app


def _check(folder: Path) -> list[str]:
    result = CliRunner().invoke(app, ["check", "--no-cache", str(folder)])
    assert result.exit_code == 1, result.output
    return result.output.splitlines()


def test_a_decimal_comma_in_a_price_is_said_with_the_amount_meant(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(
        "productOfferingPrices:\n"
        "  - {id: p, name: P, priceType: oneTime, amount: 1,50, currency: EUR}\n", encoding="utf-8")
    lines = _check(tmp_path)
    assert lines[0].startswith(f"{tmp_path / 'catalog.yaml'}:2:52: unknown field '50'; expected one of: ")
    assert lines[0].endswith("(did you mean 'amount: 1.50'?) [at $.productOfferingPrices[0].50]")


def test_a_decimal_comma_in_a_rate_too(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(
        "ruleSets:\n  - id: use\n    kind: usage\n    rules:\n"
        "      - {id: r, rate: {amount: 2,05, currency: EUR, per: movie}}\n", encoding="utf-8")
    lines = _check(tmp_path)
    assert "(did you mean 'amount: 2.05'?)" in lines[0], lines


def test_other_unknown_fields_are_said_as_before(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text(
        "productOfferingPrices:\n"
        "  - {id: p, name: P, priceType: oneTime, amount: 1.50, currency: EUR, 50: x, curency: EUR}\n"
        "  - {id: q, name: Q, priceType: oneTime, currency: EUR, 50}\n", encoding="utf-8")
    lines = _check(tmp_path)
    assert not any("did you mean 'amount" in line or "did you mean 'currency: " in line for line in lines), lines
    assert any("unknown field 'curency'" in line and "(did you mean 'currency'?)" in line for line in lines), lines
