"""``bssrules test`` says what ``check`` finds in a rule test it runs at its place
(file:line:column): an expected value of the wrong type ('rateed', a quoted amount), not
only "expected amount 2.5, got 2.50" (which reads as equal) or "expected status rateed"."""
from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GIVEN = ("{inventory: {activeOfferings: [ppv-service]}, usage: {service: ppv-movie, "
         "start: \"2026-06-01T03:00:00Z\"}}")


def _project(tmp_path: Path, tests: str) -> Path:
    shutil.copytree(EXAMPLES / "ppv" / "catalog", tmp_path / "catalog")
    (tmp_path / "rules").mkdir()
    shutil.copy(EXAMPLES / "ppv" / "rules" / "usage.yaml", tmp_path / "rules" / "usage.yaml")
    (tmp_path / "rules" / "t.yaml").write_text(tests, encoding="utf-8")
    return tmp_path


def _failures(folder: Path) -> list[str]:
    result = CliRunner().invoke(app, ["test", str(folder)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return [line.strip() for line in result.output.splitlines() if line.startswith("     ")]


def test_an_expected_value_of_the_wrong_type_is_said_as_check_says_it(tmp_path: Path) -> None:
    folder = _project(tmp_path, f"""\
tests:
  - name: a misspelt status
    ruleSet: ppv-normal
    given: {GIVEN}
    expect: {{status: rateed}}
  - name: a quoted amount
    ruleSet: ppv-normal
    given: {GIVEN}
    expect: {{amount: "2.5"}}
""")
    lines = _failures(folder)
    t = str(folder / "rules" / "t.yaml")
    assert lines[0] == (f"{t}:5:22: expected rated or rejected for 'status', got 'rateed' (did you mean 'rated'?) "
                        "[at $.tests[0].expect.status]")
    assert lines[1] == "expected status rateed, got rated"
    assert lines[2] == f"{t}:9:22: expected a number for 'amount', got '2.5' [at $.tests[1].expect.amount]"
