"""A specification with a characteristic in error (a default of the wrong type, a misspelt
valueType) still has the names of its characteristics: an offering's use of a name none of
them has ('volume' for 'vol') is said in the same run, not once the specification is fixed.
What a use says of the values of a characteristic in error still waits (it may follow)."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app

SPEC = """\
productSpecifications:
  - id: s
    name: S
    characteristics:
      - {name: vol, valueType: integer, values: [10, 50], default: "10"}
      - {name: speed, valueType: integr}
productOfferings:
  - id: o
    name: O
    productSpecification: s
    characteristicUses:
      - {name: vol, values: [20]}
      - {name: volume, values: [10]}
      - {name: sped, values: [10]}
"""


def _check(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "catalog.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert result.exit_code == 1, result.output
    return [line.split(": ", 1)[1] if ": " in line else line for line in result.output.splitlines()]


def test_a_use_of_no_characteristic_is_said_while_the_specification_has_an_error(tmp_path: Path) -> None:
    assert _check(tmp_path, SPEC) == [
        "default '10' is not of valueType integer [at $.productSpecifications[0].characteristics[0]]",
        "'integr' is not allowed here; expected one of: string, integer, number, boolean, date (did you mean "
        "'integer'?) [at $.productSpecifications[0].characteristics[1].valueType]",
        "productSpecification 's' has no characteristic 'volume' (did you mean 'vol'?) "
        "[at $.productOfferings[0].characteristicUses[1].name]",
        "productSpecification 's' has no characteristic 'sped' (did you mean 'speed'?) "
        "[at $.productOfferings[0].characteristicUses[2].name]",
        "4 errors"]


def test_a_characteristic_without_a_readable_name_leaves_the_uses_for_the_next_run(tmp_path: Path) -> None:
    lines = _check(tmp_path, SPEC.replace("{name: speed, valueType: integr}", "{nme: speed, valueType: integer}"))
    assert not any("has no characteristic" in line for line in lines), lines
