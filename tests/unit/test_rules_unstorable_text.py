"""A rules file whose text holds a NUL or a lone surrogate (written as a YAML escape) is an
error at that text's place: no database stores such text, and ``load`` on PostgreSQL
crashed on it after ``check`` had passed (the catalog files are checked so already)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssrules.cli import app

RULES = """\
ruleSets:
  - id: adults
    kind: eligibility
    rules:
      - id: adults-only
        offerings: [ppv-movie]
        when: {{party.age: {{lt: 18}}}}
        reason: {{code: tooYoung, label: "{label}"}}
"""


@pytest.mark.parametrize("label,named", [("under\\0age", "NUL"), ("bad \\ud800 label", "surrogate")])
def test_unstorable_text_in_a_rule_is_an_error_at_its_place(tmp_path: Path, label: str, named: str) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yaml").write_text(RULES.format(label=label), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "rules.yaml:8:" in line]
    assert lines and named.lower() in lines[0].lower(), result.output


def test_plain_text_passes(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yaml").write_text(RULES.format(label="under age"), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--no-cache", str(tmp_path)])
    assert "rules.yaml:8:" not in result.output, result.output
