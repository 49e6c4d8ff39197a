"""``bssrules check`` and ``bssrules explain``: the warnings of a project without errors are
printed by file, line and column (as with errors); explain checks its facts file as a rule
test's ``given`` is checked (every error, at file:line:column)."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app

WARNED = """\
ruleSets:
  - id: u
    kind: usage
    rules:
      - {id: any-data, when: {usage.service: data}, rate: {amount: 1, currency: EUR, per: GB}}
      - {id: big-data, when: {usage.service: data, usage.volume: {gt: 10}}, rate: {amount: 2, currency: EUR, per: GB}}
  - id: u
    kind: usage
    version: 2
    validFor: {start: 2026-01-01}
    rules:
      - {id: any, rate: {amount: 1, currency: EUR, per: GB}}
"""


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_the_warnings_of_a_project_that_checks_are_sorted_by_position(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yaml").write_text(WARNED, encoding="utf-8")
    result = invoke("check", "--no-cache", str(tmp_path))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if ": warning: " in line]
    assert len(warnings) == 2
    positions = [tuple(int(n) for n in line.split(":")[1:3]) for line in warnings]
    assert positions == sorted(positions) and positions[0][0] == 6  # the shadowed rule, then the overlap


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_explain_reports_every_error_of_its_facts_file_at_its_place(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text('usage: {strat: 2026-06-01T10:00:00Z, volume: "ten"}\n', encoding="utf-8")
    result = invoke("explain", str(EXAMPLES / "ppv"), str(facts), "--rule-set", "ppv-normal", "--as-of", "nope")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{facts}:1:16: unknown fact attribute 'usage.strat' (did you mean 'usage.start'?) [at $.usage.strat]",
        f"{facts}:1:46: usage.volume: expected a number, got 'ten' [at $.usage.volume]",
        "--as-of: 'nope' is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ)",
        "3 errors: nothing was decided"]
