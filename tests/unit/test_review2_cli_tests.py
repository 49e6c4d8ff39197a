"""``bssrules test`` runs every test it can: a test with an error of ``check`` in it (an
unknown rule set, a misspelt field) fails with that error at its file:line:column, the other
tests of the folder run, and so do the next folders'. A folder whose rule sets have errors
runs no test, as before."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app
from bssrules.rules.project import load_project

SETS = """\
ruleSets:
  - id: elig
    kind: eligibility
    rules:
      - id: tv-needs-plan
        offerings: [tv]
        when: {inventory.activeOfferings: {contains: plan}}
        reason: {code: noPlan, label: TV needs the plan}
"""

TESTS = """\
tests:
  - name: wrong result
    ruleSet: elig
    given: {offering: {id: tv}, inventory: {activeOfferings: []}}
    expect: {qualified: true}
  - name: unknown set
    ruleSet: eligg
    given: {offering: {id: tv}}
    expect: {qualified: true}
  - name: misspelt field
    ruleSet: elig
    gven: {offering: {id: tv}}
    expect: {qualified: true}
  - name: right result
    ruleSet: elig
    given: {offering: {id: tv}, inventory: {activeOfferings: [plan]}}
    expect: {qualified: true}
"""


def folder(root: Path, name: str, sets: str = SETS, tests: str = TESTS) -> Path:
    (root / name / "rules").mkdir(parents=True)
    (root / name / "rules" / "sets.yaml").write_text(sets, encoding="utf-8")
    (root / name / "rules" / "tests.yaml").write_text(tests, encoding="utf-8")
    return root / name


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


def test_tests_in_error_fail_with_their_errors_and_the_others_run(tmp_path: Path) -> None:
    result = invoke("test", str(folder(tmp_path, "w1")))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    heads = [line for line in lines if line.startswith(("pass ", "FAIL "))]
    assert heads == [f"FAIL {tmp_path}/w1/rules/tests.yaml:2: wrong result",
                     f"FAIL {tmp_path}/w1/rules/tests.yaml:6: unknown set",
                     f"FAIL {tmp_path}/w1/rules/tests.yaml:10: misspelt field",
                     f"pass {tmp_path}/w1/rules/tests.yaml:14: right result"]
    assert f"     {tmp_path}/w1/rules/tests.yaml:7:14: unknown rule set 'eligg' (did you mean 'elig'?) " \
           "[at $.tests[1].ruleSet]" in lines
    assert any(line.startswith(f"     {tmp_path}/w1/rules/tests.yaml:12:5: ") and "gven" in line for line in lines)
    assert "     expected qualified true, got false" in lines
    assert lines[-1] == "1 passed, 3 failed"


def test_a_folder_with_tests_in_error_does_not_stop_the_next(tmp_path: Path) -> None:
    good = folder(tmp_path, "p1", tests=TESTS.split("  - name: unknown set")[0])
    result = invoke("test", str(folder(tmp_path, "w1")), str(good))
    assert result.exit_code == 1
    assert f"FAIL {tmp_path}/p1/rules/tests.yaml:2: wrong result" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 passed, 4 failed"


def test_a_folder_whose_rule_sets_have_errors_runs_no_test_and_the_next_runs(tmp_path: Path) -> None:
    broken = folder(tmp_path, "bad", sets=SETS.replace("kind: eligibility", "kind: eligibilty"))
    good = folder(tmp_path, "p1", tests=TESTS.split("  - name: unknown set")[0])
    result = invoke("test", str(broken), str(good))
    assert result.exit_code == 1
    assert "eligibilty" in result.stderr and "bad/rules/tests.yaml" not in result.stdout
    assert result.stdout.splitlines()[-1] == "0 passed, 1 failed; 1 folder not run (errors above)"
    alone = invoke("test", str(broken))
    assert alone.exit_code == 1 and "passed" not in alone.stdout  # as before: its errors, no summary


def test_the_project_loads_without_the_tests_that_cannot_run(tmp_path: Path) -> None:
    project = load_project(folder(tmp_path, "w1"), broken_tests=True)
    assert [test.name for test, _ in project.rules.tests] == ["wrong result", "right result"]
    assert [(b.name, b.origin.line) for b in project.broken_tests] == [("unknown set", 6), ("misspelt field", 10)]
    assert [e.line for b in project.broken_tests for e in b.errors] == [7, 12]


def test_otherwise_a_test_in_error_stops_the_load_as_before(tmp_path: Path) -> None:
    import pytest

    from bssrules.errors import InvalidSource

    with pytest.raises(InvalidSource, match="unknown rule set 'eligg'"):
        load_project(folder(tmp_path, "w1"))


def test_check_still_fails_on_a_test_in_error(tmp_path: Path) -> None:
    result = invoke("check", "--no-cache", str(folder(tmp_path, "w1")))
    assert result.exit_code == 1 and "unknown rule set 'eligg'" in result.stderr
