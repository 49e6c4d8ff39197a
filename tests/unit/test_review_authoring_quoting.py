"""An id or a part number written as digits (``id: 123``, ``partNumber: 0042``) is read by
YAML as a number: the error says to quote it, as written ("0042", not 42), and only when the
quoted text would be right (a code must start with a letter: ``code: 1`` gets no such help)."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app


def test_a_number_where_a_text_is_expected_is_said_with_its_quoted_form(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").write_text("""\
resourceSpecifications:
  - {id: 123, name: SIM, partNumber: 0042}
  - {id: sim-2, name: SIM 2, partNumber: 1.10}
""", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert result.exit_code == 1
    file = tmp_path / "catalog.yaml"
    assert result.output.splitlines() == [
        f"""{file}:2:10: expected a string, got 123 (did you mean '"123"'?) [at $.resourceSpecifications[0].id]""",
        f"""{file}:2:38: expected a string, got 42 (did you mean '"0042"'?) [at $.resourceSpecifications[0].partNumber]""",
        f"""{file}:3:42: expected a string, got 1.10 (did you mean '"1.10"'?) [at $.resourceSpecifications[1].partNumber]""",
        "3 errors"]


def test_no_quoting_is_proposed_where_the_quoted_text_would_be_wrong_too(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text("""\
ruleSets:
  - id: e
    kind: eligibility
    rules:
      - {id: r, when: {party.age: {gte: 18}}, reason: {code: 1, label: Adults}}
""", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert result.exit_code == 1
    line = result.output.splitlines()[0]
    assert "expected a string, got 1" in line and "did you mean" not in line, line
