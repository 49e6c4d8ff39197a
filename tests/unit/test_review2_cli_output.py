"""``bssrules test`` and ``explain`` print ids, names and positions as written: no emoji codes
(``:100:`` stays ``:100:``), and one result per line however long (CI and grep read them)."""
from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bssrules.cli import app

LONG = "a very long test name " * 10  # well past any console width

RULES = f"""\
ruleSets:
  - id: rates
    kind: usage
    rules:
      - id: "x:100:y"
        when: {{usage.service: data}}
        rate: {{amount: 1, currency: EUR, per: MB}}
tests:
  - name: "ratio 1:100: v1 :8ball:"
    ruleSet: rates
    asOf: 2026-07-01
    given: {{usage: {{service: data, volume: 1, unit: MB}}}}
    expect: {{rule: "x:100:y"}}
  - name: "{LONG.strip()}"
    ruleSet: rates
    asOf: 2026-07-01
    given: {{usage: {{service: data, volume: 1, unit: MB}}}}
    expect: {{rule: "x:100:y", amount: 2}}
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yaml").write_text(RULES, encoding="utf-8")
    return tmp_path


def test_emoji_codes_in_ids_and_test_names_are_printed_as_written(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["test", "-v", str(project(tmp_path))])
    assert "ratio 1:100: v1 :8ball:" in result.stdout
    assert "fired x:100:y" in result.stdout
    assert "💯" not in result.stdout and "🎱" not in result.stdout


def test_a_test_at_line_100_keeps_its_line(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    padded = "\n" * 99 + "tests:\n  - {name: t, ruleSet: rates, asOf: 2026-07-01, given: {usage: {service: data}}, " \
        "expect: {rule: 'x:100:y'}}\n"
    (tmp_path / "rules" / "rules.yaml").write_text(RULES.split("tests:")[0], encoding="utf-8")
    (tmp_path / "rules" / "tests.yaml").write_text(padded, encoding="utf-8")
    result = CliRunner().invoke(app, ["test", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "rules/tests.yaml:101: t" in result.stdout  # ":101:" reads as no emoji, ":100:" would
    padded = "\n" * 98 + "tests:\n  - {name: t, ruleSet: rates, asOf: 2026-07-01, given: {usage: {service: data}}, " \
        "expect: {rule: 'x:100:y'}}\n"
    (tmp_path / "rules" / "tests.yaml").write_text(padded, encoding="utf-8")
    result = CliRunner().invoke(app, ["test", str(tmp_path)])
    assert "rules/tests.yaml:100: t" in result.stdout


def test_one_result_per_line_however_long(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["test", str(project(tmp_path))])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    failed = [line for line in lines if line.startswith("FAIL ")]
    assert len(failed) == 1 and failed[0].endswith(LONG.strip())
    assert any(line.strip() == "expected amount 2, got 1" for line in lines)
    assert lines[-1] == "1 passed, 1 failed"


def test_the_explanation_tree_keeps_long_conditions_on_one_line(tmp_path: Path) -> None:
    values = ", ".join(f"service-number-{n}" for n in range(20))
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "rules.yaml").write_text(f"""\
ruleSets:
  - id: rates
    kind: usage
    rules:
      - id: "a:100:b"
        when: {{usage.service: {{in: [{values}]}}}}
        rate: {{amount: 1, currency: EUR, per: MB}}
""", encoding="utf-8")
    facts = tmp_path.parent / f"{tmp_path.name}-facts.yaml"
    facts.write_text("usage: {service: data, volume: 1, unit: MB}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", str(tmp_path), str(facts), "-r", "rates", "--as-of", "2026-07-01"])
    assert result.exit_code == 0, result.output
    assert "a:100:b" in result.stdout
    condition = [line for line in result.stdout.splitlines() if "usage.service in" in line]
    assert len(condition) == 1 and "service-number-19]" in condition[0] and "(seen: data)" in condition[0]
