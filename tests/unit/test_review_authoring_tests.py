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


ROAMING = """\
ruleSets:
  - id: plan-usage
    kind: usage
    rules:
      - {id: home-data, when: {usage.service: data}, rate: {amount: 2.00, currency: EUR, per: GB}}
tests:
  - name: records
    ruleSet: plan-usage
    records:
      - {id: d1, service: data, unit: GB, volume: 11, start: 2026-06-20T08:00:00Z}
    expect:
      records:
        d1: {charge: "22.00", rule: home-dat}
        d9: {charge: 1.00}
"""


def test_what_check_finds_in_the_expect_of_a_test_that_plays_records_is_said_at_its_place(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(ROAMING, encoding="utf-8")
    lines = _failures(tmp_path)
    t = str(tmp_path / "rules" / "r.yaml")
    assert lines[:3] == [
        f"{t}:13:22: expected a number for 'charge', got '22.00' [at $.tests[0].expect.records.d1.charge]",
        f"{t}:13:37: rule set 'plan-usage' has no rule 'home-dat' (did you mean 'home-data'?) "
        "[at $.tests[0].expect.records.d1.rule]",
        f"{t}:14:9: the test plays no record 'd9' [at $.tests[0].expect.records.d9]"]
    # then what rating made of d1, which the quoted charge reads as equal to
    assert lines[3] == "record d1: expected charge 22.00, got 22.00; rule home-dat, got home-data"
